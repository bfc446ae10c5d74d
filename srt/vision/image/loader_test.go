package image

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	stdimage "image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
)

// pngBytes encodes a small deterministic RGB image.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	m := stdimage.NewNRGBA(stdimage.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 11), uint8(x + y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustDecode(t testing.TB, data []byte) *Image {
	t.Helper()
	im, err := Decode(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestLoadInlineForms(t *testing.T) {
	data := pngBytes(t, 5, 3)
	want := mustDecode(t, data)
	std := base64.StdEncoding.EncodeToString(data)
	raw := base64.RawURLEncoding.EncodeToString(data)
	wrapped := std[:10] + "\n" + std[10:20] + " \r\n" + std[20:]
	jpegData, err := os.ReadFile(shared.Path(t, "images", "example_image.png"))
	if err != nil {
		t.Fatal(err)
	}
	jpegB64 := base64.StdEncoding.EncodeToString(jpegData) // starts with "/9j/", like a path
	cases := []struct {
		name, src string
		want      [32]byte
	}{
		{"data url", "data:image/png;base64," + std, want.Hash},
		{"data url upper case, params", "DATA:image/PNG;charset=x;BASE64," + std, want.Hash},
		{"data url wrong subtype still sniffed", "data:image/jpeg;base64," + std, want.Hash},
		{"data url no media type", "data:;base64," + std, want.Hash},
		{"data url url-safe unpadded", "data:image/png;base64," + raw, want.Hash},
		{"data url with whitespace", "data:image/png;base64," + wrapped, want.Hash},
		{"raw base64", std, want.Hash},
		{"raw base64 surrounding space", "  " + std + "\n", want.Hash},
		{"raw base64 url-safe", raw, want.Hash},
		{"raw base64 of jpeg starting with slash", jpegB64, mustDecode(t, jpegData).Hash},
	}
	l := &Loader{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im, err := l.Load(context.Background(), c.src)
			if err != nil {
				t.Fatal(err)
			}
			if im.Hash != c.want {
				t.Fatalf("hash mismatch")
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	data := pngBytes(t, 4, 4)
	std := base64.StdEncoding.EncodeToString(data)
	bmp := append([]byte("BM"), make([]byte, 60)...)
	tiff := append([]byte("II*\x00"), make([]byte, 60)...)
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`)
	cases := []struct {
		name string
		src  string
		opts Options
		want error
		msg  string
	}{
		{"empty", "   ", Options{}, ErrInvalidSource, "empty"},
		{"data url no comma", "data:image/png;base64", Options{}, ErrInvalidSource, "separator"},
		{"data url not base64", "data:image/png," + std, Options{}, ErrInvalidSource, "base64"},
		{"data url text type", "data:text/plain;base64," + std, Options{}, ErrInvalidSource, "text/plain"},
		{"data url bad chars", "data:image/png;base64,@@@@", Options{}, ErrInvalidSource, "invalid base64"},
		{"data url bad length", "data:image/png;base64,QUJDR", Options{}, ErrInvalidSource, "base64"},
		{"data url empty payload", "data:image/png;base64,", Options{}, ErrInvalidSource, "empty"},
		{"data url too big", "data:image/png;base64," + std, Options{MaxBytes: 10}, ErrTooLarge, "limit"},
		{"raw base64 too big", std, Options{MaxBytes: 10}, ErrTooLarge, "limit"},
		{"ftp scheme", "ftp://example.com/a.png", Options{}, ErrInvalidSource, "ftp"},
		{"bmp", base64.StdEncoding.EncodeToString(bmp), Options{}, ErrUnsupportedFormat, "bmp"},
		{"tiff", base64.StdEncoding.EncodeToString(tiff), Options{}, ErrUnsupportedFormat, "tiff"},
		{"svg", "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg), Options{}, ErrUnsupportedFormat, "svg"},
		{"unknown bytes", base64.StdEncoding.EncodeToString([]byte("hello world!")), Options{}, ErrUnsupportedFormat, "unrecognised"},
		{"corrupt png", base64.StdEncoding.EncodeToString(data[:40]), Options{}, ErrCorrupt, "png"},
		{"too many pixels", std, Options{MaxPixels: 15}, ErrTooLarge, "4x4"},
		{"local path disabled", "/etc/passwd.png", Options{}, ErrNotAllowedPath, "not enabled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLoader(c.opts)
			_, err := l.Load(context.Background(), c.src)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.msg)) {
				t.Fatalf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestLoadLocalPaths(t *testing.T) {
	root := t.TempDir()
	allowed := filepath.Join(root, "media")
	outside := filepath.Join(root, "secret")
	for _, d := range []string{allowed, filepath.Join(allowed, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := pngBytes(t, 3, 2)
	want := mustDecode(t, data).Hash
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(allowed, "ok.png"), data)
	write(filepath.Join(allowed, "sub", "x y.png"), data)
	write(filepath.Join(outside, "s.png"), data)
	write(filepath.Join(allowed, "big.png"), append(data, make([]byte, 4096)...))
	symlinks := true
	if err := os.Symlink(filepath.Join(outside, "s.png"), filepath.Join(allowed, "escape.png")); err != nil {
		symlinks = false
	}
	_ = os.Symlink(outside, filepath.Join(allowed, "dirlink"))
	_ = os.Symlink(filepath.Join(allowed, "ok.png"), filepath.Join(allowed, "inner.png"))

	l := NewLoader(Options{AllowedLocalMediaPaths: []string{allowed}, MaxBytes: 2048})
	ok := []string{
		filepath.Join(allowed, "ok.png"),
		"file://" + filepath.ToSlash(filepath.Join(allowed, "ok.png")),
		"file://localhost" + filepath.ToSlash(filepath.Join(allowed, "ok.png")),
		"file://" + filepath.ToSlash(filepath.Join(allowed, "sub")) + "/x%20y.png",
		filepath.Join(allowed, "sub", "..", "ok.png"),
	}
	if symlinks {
		ok = append(ok, filepath.Join(allowed, "inner.png"))
	}
	for _, src := range ok {
		im, err := l.Load(context.Background(), src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if im.Hash != want {
			t.Fatalf("%s: hash mismatch", src)
		}
	}
	bad := []struct {
		src  string
		want error
	}{
		{filepath.Join(outside, "s.png"), ErrNotAllowedPath},
		{filepath.Join(allowed, "..", "secret", "s.png"), ErrNotAllowedPath},
		{"file://" + filepath.ToSlash(filepath.Join(outside, "s.png")), ErrNotAllowedPath},
		{filepath.Join(outside, "missing.png"), ErrNotAllowedPath},
		{filepath.Join(allowed, "missing.png"), ErrFetch},
		{filepath.Join(allowed, "sub"), ErrFetch},
		{filepath.Join(allowed, "big.png"), ErrTooLarge},
		{"file://evil.example.com/x.png", ErrInvalidSource},
	}
	if symlinks {
		bad = append(bad,
			struct {
				src  string
				want error
			}{filepath.Join(allowed, "escape.png"), ErrNotAllowedPath},
			struct {
				src  string
				want error
			}{filepath.Join(allowed, "dirlink", "s.png"), ErrNotAllowedPath})
	}
	for _, c := range bad {
		_, err := l.Load(context.Background(), c.src)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.src, err, c.want)
		}
	}
}

func TestLoadSharedImages(t *testing.T) {
	dir := shared.Path(t, "images")
	l := NewLoader(Options{AllowedLocalMediaPaths: []string{dir}})
	for _, c := range []struct {
		file   string
		w, h   int
		format string
	}{
		{"example_image.png", 570, 380, "jpeg"}, // JPEG bytes behind a .png name
		{"logo.png", 2392, 728, "png"},
		{"synthetic-animated-96x64.gif", 96, 64, "gif"},
		{"synthetic-lossless-320x240.webp", 320, 240, "webp"},
		{"synthetic-lossy-320x240.webp", 320, 240, "webp"},
		{"synthetic-progressive-640x480.jpg", 640, 480, "jpeg"},
		{"synthetic-gray-64x48.png", 64, 48, "png"},
	} {
		im, err := l.Load(context.Background(), filepath.Join(dir, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if im.W != c.w || im.H != c.h || im.Format != c.format || len(im.RGB) != c.w*c.h*3 {
			t.Errorf("%s: got %dx%d %s, want %dx%d %s", c.file, im.W, im.H, im.Format, c.w, c.h, c.format)
		}
	}
}

func newImageServer(t *testing.T, data []byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/img.png", func(w http.ResponseWriter, r *http.Request) { w.Write(data) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 100000))
	})
	mux.HandleFunc("/chunked-big", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 100; i++ {
			w.Write(make([]byte, 1000))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/img.png", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	data := pngBytes(t, 6, 4)
	want := mustDecode(t, data).Hash
	srv := newImageServer(t, data)
	l := NewLoader(Options{AllowPrivateURLs: true, MaxBytes: 50000, Timeout: 500 * time.Millisecond, MaxRedirects: 3})
	ctx := context.Background()
	for _, p := range []string{"/img.png", "/redirect", "/img.png?sig=abc"} {
		im, err := l.Load(ctx, srv.URL+p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if im.Hash != want {
			t.Fatalf("%s: hash mismatch", p)
		}
	}
	for _, c := range []struct {
		path string
		want error
		msg  string
	}{
		{"/missing", ErrFetch, "404"},
		{"/big", ErrTooLarge, "content-length"},
		{"/chunked-big", ErrTooLarge, "limit"},
		{"/loop", ErrFetch, "redirects"},
		{"/slow", ErrFetch, "timed out"},
		{"/img.png?token=SECRET", nil, ""},
	} {
		_, err := l.Load(ctx, srv.URL+c.path)
		if c.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", c.path, err)
			}
			continue
		}
		if !errors.Is(err, c.want) || !strings.Contains(strings.ToLower(err.Error()), c.msg) {
			t.Errorf("%s: err = %v, want %v mentioning %q", c.path, err, c.want, c.msg)
		}
	}
	// Query strings must not leak into error messages.
	_, err := l.Load(ctx, srv.URL+"/missing?token=SECRET")
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error leaks the query string: %v", err)
	}
	// Cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Load(cctx, srv.URL+"/img.png"); !errors.Is(err, ErrFetch) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestFetchUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	l := NewLoader(Options{AllowPrivateURLs: true, Timeout: time.Second})
	_, err = l.Load(context.Background(), "http://"+addr+"/x.png")
	if !errors.Is(err, ErrFetch) {
		t.Fatalf("err = %v, want ErrFetch", err)
	}
}

func TestFetchPrivateAddressBlocked(t *testing.T) {
	data := pngBytes(t, 2, 2)
	srv := newImageServer(t, data)
	def := NewLoader(Options{Timeout: time.Second})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{
		srv.URL + "/img.png",
		"http://localhost:" + port + "/img.png", // name resolving to loopback
		"http://[::1]:" + port + "/img.png",
		"http://0.0.0.0:" + port + "/img.png",
		"http://169.254.169.254/latest/meta-data",
		"http://10.0.0.1:" + port + "/img.png",
	} {
		_, err := def.Load(context.Background(), u)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: err = %v, want ErrForbiddenAddress", u, err)
		}
	}
	// Every redirect hop is dialled through the same check: exempt only the
	// first server (standing in for a public host) and redirect to another
	// loopback server.
	redir := httptest.NewServer(http.RedirectHandler(srv.URL+"/img.png", http.StatusFound))
	defer redir.Close()
	first := netip.MustParseAddrPort(redir.Listener.Addr().String())
	allowFirst := NewLoader(Options{Timeout: time.Second})
	allowFirst.exemptDial = func(ap netip.AddrPort) bool { return ap == first }
	_, err := allowFirst.Load(context.Background(), redir.URL+"/")
	if !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
		t.Errorf("second hop: err = %v, want ErrForbiddenAddress naming %s", err, srv.Listener.Addr())
	}
	if _, err := allowFirst.Load(context.Background(), redir.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("redirect to loopback: err = %v", err)
	}
	ok := NewLoader(Options{Timeout: time.Second, AllowPrivateURLs: true})
	if _, err := ok.Load(context.Background(), srv.URL+"/img.png"); err != nil {
		t.Fatalf("AllowPrivateURLs: %v", err)
	}
}

func TestForbiddenAddr(t *testing.T) {
	for _, c := range []struct {
		ip   string
		want string
	}{
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"127.0.0.1", "loopback"},
		{"::1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"192.168.1.1", "private"},
		{"fd00::1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:10.0.0.1", "private"},
		{"64:ff9b::a00:1", "private"},
		{"100.64.0.1", "reserved"},
		{"0.1.2.3", "reserved"},
		{"255.255.255.255", "reserved"},
	} {
		if got := ForbiddenAddr(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("ForbiddenAddr(%s) = %q, want %q", c.ip, got, c.want)
		}
	}
}

func TestLoaderConcurrentUse(t *testing.T) {
	data := pngBytes(t, 7, 5)
	want := mustDecode(t, data).Hash
	srv := newImageServer(t, data)
	l := NewLoader(Options{AllowPrivateURLs: true, Timeout: 2 * time.Second})
	srcs := []string{srv.URL + "/img.png", "data:image/png;base64," + base64.StdEncoding.EncodeToString(data)}
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		go func(i int) {
			im, err := l.Load(context.Background(), srcs[i%2])
			if err == nil && im.Hash != want {
				err = errors.New("hash mismatch")
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 16; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

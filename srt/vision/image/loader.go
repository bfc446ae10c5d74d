package image

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Default fetch settings used when the corresponding Options field is zero.
const (
	DefaultTimeout      = 20 * time.Second
	DefaultMaxRedirects = 5
)

// Options configures a Loader. The zero value is usable: remote fetches to
// public addresses only, no local paths, default limits.
type Options struct {
	// MaxBytes limits encoded image size from any source (default 20 MiB).
	MaxBytes int64
	// MaxPixels limits width*height, checked from the header before decoding
	// (default DefaultMaxPixels).
	MaxPixels int64
	// Timeout bounds one http(s) fetch including redirects and the body
	// (default DefaultTimeout).
	Timeout time.Duration
	// MaxRedirects bounds redirect hops (default DefaultMaxRedirects; a
	// negative value forbids redirects).
	MaxRedirects int
	// AllowPrivateURLs lets fetches connect to private, loopback, link-local
	// and other non-public addresses. Off by default: only for tests and
	// trusted deployments.
	AllowPrivateURLs bool
	// AllowedLocalMediaPaths lists directories whose files may be loaded by
	// path or file:// URL. Empty means local paths are refused.
	AllowedLocalMediaPaths []string
	// UserAgent is sent with http(s) fetches (default "sglang-go").
	UserAgent string
	// Transport, when set, replaces the HTTP transport (tests only: the
	// address checks live in the default transport's dialer).
	Transport http.RoundTripper
}

func (o *Options) limits() Limits { return Limits{MaxBytes: o.MaxBytes, MaxPixels: o.MaxPixels} }

// Loader loads images from request sources. Build it as &Loader{Options: o}
// or with NewLoader; it is safe for concurrent use once built and must not be
// copied after first use.
type Loader struct {
	Options

	once   sync.Once
	client *http.Client
	// exemptDial, when set (tests only), exempts addresses from the check.
	exemptDial func(netip.AddrPort) bool
}

// NewLoader returns a Loader with the given options.
func NewLoader(o Options) *Loader { return &Loader{Options: o} }

// Load resolves src and decodes it. src may be an http(s) URL, a data: URL
// (data:image/...;base64,...), a file:// URL or local path (only under
// AllowedLocalMediaPaths), or raw base64 of the image bytes.
func (l *Loader) Load(ctx context.Context, src string) (*Image, error) {
	data, err := l.Bytes(ctx, src)
	if err != nil {
		return nil, err
	}
	return Decode(data, l.limits())
}

// Bytes returns the encoded bytes behind src without decoding them.
func (l *Loader) Bytes(ctx context.Context, src string) ([]byte, error) {
	s := strings.TrimSpace(src)
	if s == "" {
		return nil, fmt.Errorf("%w: empty source", ErrInvalidSource)
	}
	lower := strings.ToLower(s[:min(len(s), 16)])
	switch {
	case strings.HasPrefix(lower, "data:"):
		return ParseDataURL(s, l.limits().maxBytes())
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return l.fetch(ctx, s)
	case strings.HasPrefix(lower, "file:"):
		p, err := fileURLPath(s)
		if err != nil {
			return nil, err
		}
		return l.readLocal(p)
	}
	if i := strings.Index(s, "://"); i > 0 && i < 16 && !strings.ContainsAny(s[:i], "/+=") {
		return nil, fmt.Errorf("%w: unsupported URL scheme %q", ErrInvalidSource, s[:i])
	}
	// A path or raw base64. Base64 never contains '.', '\\', ':' or '~';
	// strings without them are decoded as base64 unless they start like a
	// path and do not decode to a recognised image format.
	if !strings.ContainsAny(s, ".\\:~") {
		b, err := decodeBase64(s, l.limits().maxBytes())
		switch {
		case err == nil && (Sniff(b) != "" || !looksLikePath(s)):
			return b, nil
		case err != nil && (!looksLikePath(s) || errors.Is(err, ErrTooLarge)):
			return nil, err
		}
	}
	return l.readLocal(s)
}

func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../")
}

// ParseDataURL decodes an RFC 2397 data URL carrying base64 image data
// ("data:image/png;base64,...."); the media type must be image/* or empty.
// Whitespace inside the payload is ignored; the decoded size must not exceed
// maxBytes (<= 0 means DefaultMaxBytes).
func ParseDataURL(s string, maxBytes int64) ([]byte, error) {
	if len(s) < 5 || !strings.EqualFold(s[:5], "data:") {
		return nil, fmt.Errorf("%w: not a data URL", ErrInvalidSource)
	}
	comma := strings.IndexByte(s, ',')
	if comma < 0 {
		return nil, fmt.Errorf("%w: data URL has no ',' separator", ErrInvalidSource)
	}
	meta, payload := s[5:comma], s[comma+1:]
	params := strings.Split(meta, ";")
	mediaType := strings.ToLower(strings.TrimSpace(params[0]))
	isBase64 := false
	for _, p := range params[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "base64") {
			isBase64 = true
		}
	}
	if mediaType != "" && !strings.HasPrefix(mediaType, "image/") && mediaType != "application/octet-stream" {
		return nil, fmt.Errorf("%w: data URL media type %q is not an image", ErrInvalidSource, mediaType)
	}
	if !isBase64 {
		return nil, fmt.Errorf("%w: data URL is not base64-encoded", ErrInvalidSource)
	}
	return decodeBase64(payload, maxBytes)
}

// decodeBase64 accepts standard or URL-safe base64, padded or not, with
// embedded whitespace, and enforces the decoded-size limit before decoding.
func decodeBase64(s string, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if int64(len(s))/4*3 > maxBytes+3 {
		return nil, fmt.Errorf("%w: base64 payload of %d chars exceeds the %d-byte limit", ErrTooLarge, len(s), maxBytes)
	}
	clean := make([]byte, 0, len(s))
	urlSafe := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '-' || c == '_':
			urlSafe = true
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
		default:
			return nil, fmt.Errorf("%w: invalid base64 character %q at offset %d", ErrInvalidSource, c, i)
		}
		clean = append(clean, c)
	}
	if len(clean) == 0 {
		return nil, fmt.Errorf("%w: empty base64 payload", ErrInvalidSource)
	}
	enc := base64.StdEncoding
	if urlSafe {
		enc = base64.URLEncoding
	}
	trimmed := strings.TrimRight(string(clean), "=")
	out, err := enc.WithPadding(base64.NoPadding).DecodeString(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64: %v", ErrInvalidSource, err)
	}
	if int64(len(out)) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrTooLarge, len(out), maxBytes)
	}
	return out, nil
}

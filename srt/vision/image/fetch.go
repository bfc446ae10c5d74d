package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// reservedPrefixes are non-public ranges not covered by netip's predicates.
var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard
}

// nat64 embeds IPv4 addresses in IPv6; the embedded address is checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// ForbiddenAddr reports why ip may not be fetched from when private URLs are
// not allowed, or "" when it is a public address.
func ForbiddenAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, p := range reservedPrefixes {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	return ""
}

// dialControl runs after DNS resolution for every connection attempt, so a
// name that resolves (or re-resolves) to a forbidden address is refused.
func (l *Loader) dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q", ErrForbiddenAddress, address)
	}
	if l.exemptDial != nil && l.exemptDial(ap) {
		return nil
	}
	if why := ForbiddenAddr(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is a %s address", ErrForbiddenAddress, ap, why)
	}
	return nil
}

func (l *Loader) httpClient() *http.Client {
	l.once.Do(func() {
		timeout := l.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		rt := l.Transport
		if rt == nil {
			d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
			if !l.AllowPrivateURLs {
				d.Control = l.dialControl
			}
			rt = &http.Transport{
				Proxy:                 nil, // a proxy would bypass the address check
				DialContext:           d.DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          16,
				IdleConnTimeout:       60 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: timeout,
			}
		}
		maxRedirects := l.MaxRedirects
		if maxRedirects == 0 {
			maxRedirects = DefaultMaxRedirects
		}
		l.client = &http.Client{
			Transport: rt,
			Timeout:   timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > maxRedirects || maxRedirects < 0 {
					return fmt.Errorf("%w: stopped after %d redirects", ErrFetch, len(via))
				}
				if s := req.URL.Scheme; s != "http" && s != "https" {
					return fmt.Errorf("%w: redirect to unsupported scheme %q", ErrFetch, s)
				}
				return nil
			},
		}
	})
	return l.client
}

// fetch GETs an http(s) URL with the loader's limits.
func (l *Loader) fetch(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: bad URL: %v", ErrInvalidSource, err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: URL %q has no host", ErrInvalidSource, raw)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSource, err)
	}
	ua := l.UserAgent
	if ua == "" {
		ua = "sglang-go"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "image/*")
	resp, err := l.httpClient().Do(req)
	if err != nil {
		return nil, classifyFetchError(redact(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%w: GET %s: HTTP %s", ErrFetch, redact(u), resp.Status)
	}
	max := l.limits().maxBytes()
	if resp.ContentLength > max {
		return nil, fmt.Errorf("%w: GET %s: Content-Length %d exceeds the %d-byte limit", ErrTooLarge, redact(u), resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, classifyFetchError(redact(u), err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: GET %s: body exceeds the %d-byte limit", ErrTooLarge, redact(u), max)
	}
	return data, nil
}

func classifyFetchError(where string, err error) error {
	switch {
	case errors.Is(err, ErrForbiddenAddress):
		return fmt.Errorf("%w: GET %s: %v", ErrForbiddenAddress, where, unwrapURLError(err))
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Errorf("%w: GET %s: timed out: %v", ErrFetch, where, unwrapURLError(err))
	}
	return fmt.Errorf("%w: GET %s: %v", ErrFetch, where, unwrapURLError(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unwrapURLError drops url.Error's "Get "<url>":" prefix (which would leak
// query strings) but keeps the chain for errors.Is.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact returns the URL without user info or query, for error messages.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	s := c.String()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.TrimSpace(s)
}

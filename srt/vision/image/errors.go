package image

import "errors"

// Sentinel errors. Every error the package returns wraps exactly one of them;
// the wrapping message names the concrete problem.
var (
	// ErrInvalidSource: the source string is empty, malformed (bad data URL,
	// bad base64, bad file:// URL) or uses an unsupported scheme.
	ErrInvalidSource = errors.New("image: invalid image source")
	// ErrUnsupportedFormat: the bytes are not PNG, JPEG, GIF or WEBP.
	ErrUnsupportedFormat = errors.New("image: unsupported image format")
	// ErrTooLarge: the encoded bytes or the decoded pixel count exceed a limit.
	ErrTooLarge = errors.New("image: image too large")
	// ErrCorrupt: the bytes claim a supported format but do not decode.
	ErrCorrupt = errors.New("image: corrupt image data")
	// ErrFetch: an http(s) fetch or a local read failed (network error,
	// timeout, non-2xx status, too many redirects, missing file).
	ErrFetch = errors.New("image: fetch failed")
	// ErrForbiddenAddress: an http(s) fetch would connect to a private,
	// loopback, link-local, unspecified, multicast or reserved address.
	ErrForbiddenAddress = errors.New("image: forbidden network address")
	// ErrNotAllowedPath: a local path is outside Options.AllowedLocalMediaPaths
	// (or local paths are disabled).
	ErrNotAllowedPath = errors.New("image: local path not allowed")
	// ErrInvalidConfig: a preprocessor configuration is unusable.
	ErrInvalidConfig = errors.New("image: invalid preprocessor config")
	// ErrBadSize: an image's size cannot be processed (zero, or an aspect
	// ratio beyond the processor's limit).
	ErrBadSize = errors.New("image: unsupported image size")
)

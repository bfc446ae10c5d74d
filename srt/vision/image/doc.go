// Package image loads request images and turns them into model inputs.
//
// It is the request-side half of the vision path:
//
//   - A Loader turns the image sources that the OpenAI vision API and SGLang's
//     /generate image_data accept (http(s) URLs, data: URLs, raw base64,
//     local paths and file:// URLs) into a decoded *Image. Fetches are bounded
//     in time and size, redirects are checked at every hop, and by default no
//     connection is made to private, loopback, link-local, unspecified or
//     multicast addresses (checked on the resolved IP at dial time). Local
//     files are read only under Options.AllowedLocalMediaPaths, after symlinks
//     and ".." are resolved.
//   - Decode sniffs the bytes (never the name or Content-Type), accepts PNG,
//     JPEG (baseline and progressive), GIF (first frame) and WEBP (lossy and
//     lossless), checks the header's dimensions against the pixel limit
//     before decoding, and converts to 8-bit RGB the way PIL's
//     Image.convert("RGB") does: alpha is dropped, not composited.
//   - ResizeBicubic reproduces PIL's Image.resize(..., BICUBIC) on uint8 RGB
//     (support-scaled filter, a = -0.5, 22-bit fixed-point coefficients,
//     horizontal pass first), and Qwen2VL reproduces Hugging Face's
//     Qwen2VLImageProcessor (smart_resize, bicubic resize, rescale,
//     normalize, temporal repeat and patch flattening in merge-window order).
//
// Every failure is reported as an error wrapping one of the package's
// sentinel errors (ErrInvalidSource, ErrUnsupportedFormat, ErrTooLarge,
// ErrCorrupt, ErrFetch, ErrForbiddenAddress, ErrNotAllowedPath), so a server
// can map them to HTTP 400 with errors.Is. Nothing in the package panics on
// bad input and nothing holds global mutable state.
package image

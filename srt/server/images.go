package server

import (
	"encoding/json"
	"strings"
)

// parseImageData reads /generate's image_data for a request of n prompts, as
// SGLang accepts it: for one prompt, an image (a URL, data URL, path or
// base64 string) or a list of images; for a batch, one image for every
// prompt, or a list with one entry per prompt, each entry an image, a list
// of images, or null.
func parseImageData(raw json.RawMessage, n int, batch bool) ([][]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	out := make([][]string, n)
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if strings.TrimSpace(one) == "" {
			return nil, badRequest("image_data: empty image")
		}
		for i := range out {
			out[i] = []string{one}
		}
		return out, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("image_data: want an image (URL, data URL, path or base64 string) or a list of them")
	}
	if !batch {
		imgs, err := imageList(raw, "image_data")
		if err != nil {
			return nil, err
		}
		out[0] = imgs
		return out, nil
	}
	if len(list) != n {
		return nil, badRequest("image_data has %d items; the batch has %d", len(list), n)
	}
	for i, item := range list {
		if isNull(item) {
			continue
		}
		if err := json.Unmarshal(item, &one); err == nil {
			if strings.TrimSpace(one) == "" {
				return nil, badRequest("image_data[%d]: empty image", i)
			}
			out[i] = []string{one}
			continue
		}
		imgs, err := imageList(item, "image_data[item]")
		if err != nil {
			return nil, err
		}
		out[i] = imgs
	}
	return out, nil
}

// imageList reads a JSON list of image strings.
func imageList(raw json.RawMessage, what string) ([]string, error) {
	var imgs []string
	if err := json.Unmarshal(raw, &imgs); err != nil {
		return nil, badRequest("%s: want a list of image strings", what)
	}
	for j, s := range imgs {
		if strings.TrimSpace(s) == "" {
			return nil, badRequest("%s[%d]: empty image", what, j)
		}
	}
	return imgs, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/model/hub"
	"github.com/sglang-go/sglang/srt/server"
	"github.com/sglang-go/sglang/srt/vision/image"
)

// runServe is "sglang serve": SGLang's launch_server with its flag names.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	modelPath := fs.String("model-path", "", "HF model folder, .gguf file, or Hugging Face id")
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 30000, "port to listen on")
	served := fs.String("served-model-name", "", "model id of the OpenAI API (default: the model path)")
	tmpl := fs.String("chat-template", "", "built-in template name (chatml, llama-2, llama-3, qwen2-vl, vicuna_v1.1) or a Jinja file (default: the model's own)")
	ctxLen := fs.Int("context-length", 0, "context length (0: the model's)")
	maxRunning := fs.Int("max-running-requests", 0, "most requests decoding at once (0: 256)")
	maxTotal := fs.Int("max-total-tokens", 0, "KV pool size in tokens (0: sized automatically)")
	memFrac := fs.Float64("mem-fraction-static", 0, "accepted for compatibility; ignored on CPU (use --max-total-tokens)")
	policy := fs.String("schedule-policy", "lpm", "waiting-queue order: lpm or fcfs")
	noRadix := fs.Bool("disable-radix-cache", false, "turn prefix caching off")
	kvDType := fs.String("kv-cache-dtype", "auto", "KV cache values: auto (f32 for f32 weights, else float16), float32, float16, fp8_e5m2 or fp8_e4m3 (fp8: half of float16's memory and bandwidth, 2 or 3 mantissa bits)")
	noJump := fs.Bool("disable-jump-forward", false, "decode text a regex/JSON-schema constraint forces token by token")
	chunked := fs.Int("chunked-prefill-size", 0, "most prompt tokens in one prefill step (0: 2048)")
	apiKey := fs.String("api-key", "", "require this key as 'Authorization: Bearer KEY'")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warning, error")
	threads := fs.Int("threads", 0, "kernel threads (0: all cores)")
	streamInterval := fs.Int("stream-interval", 1, "accepted for compatibility; every step is streamed")
	tpSize := fs.Int("tp-size", 1, "accepted for compatibility; must be 1")
	maxBody := fs.Int64("max-body-bytes", 32<<20, "largest request body in bytes")
	var mediaPaths []string
	fs.Func("allowed-local-media-path", "directory whose image files requests may name by path or file:// URL (repeat or comma-separate for several; default: none)",
		func(v string) error {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					mediaPaths = append(mediaPaths, p)
				}
			}
			return nil
		})
	privateURLs := fs.Bool("allow-private-image-urls", false, "let image URLs reach private, loopback and link-local addresses (tests and trusted networks only)")
	maxImages := fs.Int("max-images-per-request", srt.DefaultMaxImagesPerRequest, "most images in one request")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (written at shutdown)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("%w: --model-path is required", errUsage)
	}
	if *tpSize != 1 {
		return fmt.Errorf("%w: --tp-size must be 1 on CPU", errUsage)
	}
	if *maxImages < 1 {
		return fmt.Errorf("%w: --max-images-per-request must be at least 1", errUsage)
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("%w: --port %d out of range", errUsage, *port)
	}
	log, err := logger(*logLevel, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	eng, err := srt.NewEngine(ctx, srt.Options{ModelPath: *modelPath, Threads: *threads, ContextLength: *ctxLen,
		MaxTotalTokens: *maxTotal, MaxRunningRequests: *maxRunning, ChunkedPrefillSize: *chunked,
		SchedulePolicy: *policy, DisableRadixCache: *noRadix, KVCacheDType: *kvDType, DisableJumpForward: *noJump, Logger: log, Hub: hub.Options{Progress: stderr},
		Media:               image.Options{AllowedLocalMediaPaths: mediaPaths, AllowPrivateURLs: *privateURLs},
		MaxImagesPerRequest: *maxImages})
	if err != nil {
		return err
	}
	defer eng.Close()
	info := eng.Info()
	cc, err := server.LoadChatConfig(info.ModelPath, *tmpl, eng.GGUFChatTemplate())
	if err != nil {
		return err
	}
	if cc.Template == nil {
		log.Warn("the model has no chat template; /v1/chat/completions will answer 400 (pass --chat-template)")
	}
	srv, err := server.New(eng, server.Options{ServedModelName: *served, ChatTemplate: cc.Template, BOS: cc.BOS,
		EOS: cc.EOS, APIKey: *apiKey, MaxBodyBytes: *maxBody, Logger: log,
		OnReady: func(addr net.Addr) {
			log.Info(server.ReadyMessage, "addr", addr.String())
			fmt.Fprintln(stdout, server.ReadyMessage)
		},
		ServerArgs: map[string]any{"model_path": *modelPath, "host": *host, "port": *port,
			"served_model_name": *served, "chat_template": *tmpl, "context_length": *ctxLen,
			"max_running_requests": *maxRunning, "max_total_tokens": *maxTotal, "mem_fraction_static": *memFrac,
			"schedule_policy": *policy, "disable_radix_cache": *noRadix, "kv_cache_dtype": *kvDType, "chunked_prefill_size": *chunked,
			"api_key_set": *apiKey != "", "log_level": *logLevel, "threads": *threads,
			"stream_interval": *streamInterval, "tp_size": *tpSize, "device": "cpu",
			"allowed_local_media_path": mediaPaths, "allow_private_image_urls": *privateURLs,
			"max_images_per_request": *maxImages}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(stdout, "serving %s as %q on http://%s\n", info.ModelPath, srv.ModelName(), ln.Addr())
	if err := srv.Serve(ctx, ln, 10*time.Second); err != nil {
		return err
	}
	return nil
}

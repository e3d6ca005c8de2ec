-- wrk script: the non-streamed PollyBot chat that bench_http sends, as the
-- ceiling of what the emulator serves. Usage:
--   wrk -t1 -c32 -d3s -s benchmarks/wrk_pollybot.lua http://127.0.0.1:PORT/api/v1/chatbots/bench/chat
-- The last line is machine-readable for scripts/bench.sh:
--   WRK requests duration_us errors p50_us p99_us
wrk.method = "POST"
wrk.body = '{"message":"Where is my order? It was due on Tuesday."}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer x"

done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("WRK %d %d %d %d %d\n", summary.requests, summary.duration, errors,
                         latency:percentile(50), latency:percentile(99)))
end

-- wrk script: the request every bench_request client sends (VectorShift's
-- legacy run), for the machine's ceiling against the same nginx. Run by
-- scripts/bench_request.sh:
--   wrk -t1 -c10 -d2s -s benchmarks/wrk_run.lua http://127.0.0.1:PORT/api/chatbots/run
-- The last line is machine-readable: WRK requests duration_us errors
wrk.method = "POST"
wrk.body = '{"input":"Where is my order? It was due on Tuesday.","chatbot_id":"bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Api-Key"] = "bench-key"
wrk.headers["User-Agent"] = "wrk"

done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("WRK %d %d %d\n", summary.requests, summary.duration, errors))
end

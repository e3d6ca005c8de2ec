#pragma once
// Which API's events a streamed reply carries, and so how its body is framed.
namespace chatwire::stream {

enum class format {
    vectorshift_sse,   ///< legacy `output` (cumulative or chunked) and v1 `output_value`; bare JSON lines too
    chatbotkit_jsonl,  ///< ChatBotKit JSON lines
    pollybot_sse,      ///< PollyBot start/token/done/error and [DONE]
};

} // namespace chatwire::stream

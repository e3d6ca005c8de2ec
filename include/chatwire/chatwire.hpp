#pragma once
// The whole client API in one include (the emulator has its own headers,
// under chatwire/emulator/, and its own library, chatwire::emulator).
#include <chatwire/api_key.hpp>
#include <chatwire/chat_client.hpp>
#include <chatwire/chat_stream.hpp>
#include <chatwire/chatbotkit.hpp>
#include <chatwire/error.hpp>
#include <chatwire/http/body_stream.hpp>
#include <chatwire/http/client.hpp>
#include <chatwire/http/message.hpp>
#include <chatwire/http/options.hpp>
#include <chatwire/http/origin.hpp>
#include <chatwire/page_codec.hpp>
#include <chatwire/pager.hpp>
#include <chatwire/pollybot.hpp>
#include <chatwire/stream/chatbotkit_mapper.hpp>
#include <chatwire/stream/event.hpp>
#include <chatwire/stream/jsonl_decoder.hpp>
#include <chatwire/stream/pollybot_mapper.hpp>
#include <chatwire/stream/sse_decoder.hpp>
#include <chatwire/stream/vectorshift_mapper.hpp>
#include <chatwire/vectorshift.hpp>
#include <chatwire/version.hpp>

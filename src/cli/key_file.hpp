#pragma once
// --api-key-file: one key in a small regular file, read with a bound.
#include <cstddef>
#include <string>

namespace chatwire::cli {

/// The largest key file read (the library's max_api_key_size, too).
inline constexpr std::size_t max_key_file_size = 64 * 1024;

/// Reads an API key from the regular file at `path`: spaces, tabs and line
/// breaks around it are trimmed (a trailing newline is normal); what is left
/// must be one line. Refused without waiting or reading past the bound: a
/// directory, a FIFO, a device or a socket, a file over max_key_file_size, an
/// empty one or one of only whitespace. False then, with the reason (which
/// never quotes the file's text) in `*why` when given.
bool read_key_file(const std::string& path, std::string& key, std::string* why = nullptr);

} // namespace chatwire::cli

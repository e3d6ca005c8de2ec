#include <chatwire/emulator/server.hpp>

#include <boost/asio/io_context.hpp>

// The emulator is its own library: a program that embeds it links chatwire::emulator.
int main() {
    boost::asio::io_context io;
    chatwire::emulator::options o;
    o.tls = false;
    chatwire::emulator::server emu(io.get_executor(), o);
    emu.start();
    return emu.port() == 0 ? 1 : 0;
}

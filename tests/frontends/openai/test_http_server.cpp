// tests/frontends/openai/test_http_server.cpp — the Beast server over real sockets: keep-alive, limits, disconnects, stop.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "fake_engine.h"
#include "http_server.h"
#include "router.h"

using llmatc::openai::HttpServer;
using llmatc::openai::HttpServerOptions;
using llmatc::openai::Router;
using llmatc::openai::ServerContext;
using llmatc::test::FakeEngine;

namespace {

// A server on a free loopback port, run on its own thread, stopped at the end of the test.
struct RunningServer {
    FakeEngine engine;
    std::shared_ptr<Router> router;
    std::unique_ptr<HttpServer> server;
    std::thread thread;

    explicit RunningServer(uint64_t max_body = 1 << 20) {
        router = std::make_shared<Router>(
            ServerContext{llmatc::openai::EngineClient(engine.api(), &FakeEngine::last_error), "", false, nullptr});
        HttpServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        options.n_threads = 2;
        options.max_body_bytes = max_body;
        server = std::make_unique<HttpServer>(options, router);
        thread = std::thread([this] { server->run(); });
    }
    ~RunningServer() {
        server->stop(0);
        thread.join();
    }
};

// A blocking client socket with a receive timeout, so a broken server fails the test instead of hanging it.
class Client {
public:
    explicit Client(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~Client() { close(); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void send(const std::string& data) {
        size_t sent = 0;
        while (sent < data.size()) {
            ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return;  // the server may close early (413); the response is still readable
            sent += static_cast<size_t>(n);
        }
    }
    // Reads until `marker` appears in what was received (or EOF/timeout); returns everything received so far.
    std::string read_until(const std::string& marker) {
        char chunk[4096];
        while (buffer_.find(marker) == std::string::npos) {
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) break;
            buffer_.append(chunk, static_cast<size_t>(n));
        }
        return buffer_;
    }
    // Reads one response with a Content-Length body and removes it from the buffer.
    std::string read_response() {
        read_until("\r\n\r\n");
        size_t header_end = buffer_.find("\r\n\r\n");
        REQUIRE(header_end != std::string::npos);
        size_t cl = buffer_.find("Content-Length: ");
        REQUIRE(cl != std::string::npos);
        size_t length = std::stoul(buffer_.substr(cl + 16));
        while (buffer_.size() < header_end + 4 + length) {
            char chunk[4096];
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) break;
            buffer_.append(chunk, static_cast<size_t>(n));
        }
        std::string response = buffer_.substr(0, header_end + 4 + length);
        buffer_.erase(0, header_end + 4 + length);
        return response;
    }

private:
    int fd_ = -1;
    std::string buffer_;
};

std::string post(const std::string& target, const std::string& body) {
    return "POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

template <typename Pred>
bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

}  // namespace

TEST_CASE("keep-alive serves several requests on one connection, pipelined too", "[openai][http]") {
    RunningServer s;
    REQUIRE(s.server->port() != 0);
    Client c(s.server->port());
    c.send("GET /v1/models HTTP/1.1\r\nHost: t\r\n\r\n");
    std::string first = c.read_response();
    CHECK(first.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(first.find("\"max_model_len\":64") != std::string::npos);
    c.send(post("/v1/completions", R"({"prompt":"hi","max_tokens":3})") + "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    std::string second = c.read_response();
    CHECK(second.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(second.find("\"text\":\"abc\"") != std::string::npos);
    std::string third = c.read_response();
    CHECK(third.rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("an oversized body is 413, malformed HTTP is 400, and the server keeps serving", "[openai][http]") {
    RunningServer s(1024);
    {
        Client c(s.server->port());
        c.send(post("/v1/completions", "{\"prompt\":\"" + std::string(4000, 'x') + "\"}"));
        std::string r = c.read_until("\r\n\r\n");
        CHECK(r.rfind("HTTP/1.1 413", 0) == 0);
    }
    {
        Client c(s.server->port());
        c.send("THIS IS NOT HTTP\r\n\r\n");
        std::string r = c.read_until("\r\n\r\n");
        CHECK(r.rfind("HTTP/1.1 400", 0) == 0);
    }
    Client c(s.server->port());
    c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(c.read_response().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("SSE streams use chunked encoding and end with [DONE]", "[openai][http][stream]") {
    RunningServer s;
    Client c(s.server->port());
    c.send(post("/v1/completions", R"({"prompt":"hi","max_tokens":3,"stream":true})"));
    std::string r = c.read_until("0\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(r.find("Content-Type: text/event-stream") != std::string::npos);
    CHECK(r.find("Transfer-Encoding: chunked") != std::string::npos);
    CHECK(r.find("data: [DONE]\n\n") != std::string::npos);
    CHECK(r.find("\"finish_reason\":\"length\"") != std::string::npos);
}

TEST_CASE("HTTP/1.0 clients get the stream unchunked, ended by closing", "[openai][http][stream]") {
    RunningServer s;
    Client c(s.server->port());
    const std::string body = R"({"prompt":"hi","max_tokens":2,"stream":true})";
    c.send("POST /v1/completions HTTP/1.0\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    std::string r = c.read_until("\x01");  // reads to EOF: the server closes after the stream
    CHECK(r.rfind("HTTP/1.0 200", 0) == 0);
    CHECK(r.find("Transfer-Encoding") == std::string::npos);
    CHECK(r.find("\r\n\r\ndata: {") != std::string::npos);
    CHECK(r.size() > 14);
    CHECK(r.substr(r.size() - 14) == "data: [DONE]\n\n");
}

TEST_CASE("a client that disconnects mid-stream gets its engine requests cancelled", "[openai][http][cancel]") {
    RunningServer s;
    s.engine.step_delay_ms = 10;
    {
        Client c(s.server->port());
        c.send(post("/v1/completions", R"({"prompt":"hi","max_tokens":100000,"stream":true})"));
        c.read_until("data: ");
        REQUIRE(s.engine.running.load() == 1);
    }
    CHECK(eventually([&] { return s.engine.running.load() == 0; }));
    CHECK(s.engine.cancelled.load() == 1);
    // A non-streaming request whose client leaves is cancelled too.
    {
        Client c(s.server->port());
        c.send(post("/v1/completions", R"({"prompt":"hi","max_tokens":100000})"));
        REQUIRE(eventually([&] { return s.engine.running.load() == 1; }));
    }
    CHECK(eventually([&] { return s.engine.running.load() == 0; }));
    CHECK(s.engine.cancelled.load() == 2);
    Client c(s.server->port());
    c.send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(c.read_response().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("stop lets in-flight requests finish within the grace period", "[openai][http][stop]") {
    FakeEngine engine;
    engine.step_delay_ms = 20;
    auto router = std::make_shared<Router>(
        ServerContext{llmatc::openai::EngineClient(engine.api(), &FakeEngine::last_error), "", false, nullptr});
    HttpServerOptions options;
    options.port = 0;
    HttpServer server(options, router);
    std::thread runner([&] { server.run(); });
    Client c(server.port());
    c.send(post("/v1/completions", R"({"prompt":"hi","max_tokens":10})"));
    REQUIRE(eventually([&] { return engine.running.load() == 1; }));
    auto t0 = std::chrono::steady_clock::now();
    server.stop(5000);
    std::string r = c.read_response();
    runner.join();
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(r.find("\"text\":\"abcdefghij\"") != std::string::npos);
    CHECK(r.find("Connection: close") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));

    SECTION("and aborts what is left when the grace period is over") {
        FakeEngine slow;
        slow.step_delay_ms = 50;
        auto router2 = std::make_shared<Router>(
            ServerContext{llmatc::openai::EngineClient(slow.api(), &FakeEngine::last_error), "", false, nullptr});
        HttpServer server2(options, router2);
        std::thread runner2([&] { server2.run(); });
        Client c2(server2.port());
        c2.send(post("/v1/completions", R"({"prompt":"hi","max_tokens":100000})"));
        REQUIRE(eventually([&] { return slow.running.load() == 1; }));
        server2.stop(100);
        runner2.join();
        CHECK(eventually([&] { return slow.running.load() == 0; }));
        CHECK(slow.cancelled.load() == 1);
    }
}

// frontends/openai/http_server.cpp — Beast listener and sessions (after Beast's http_server_async and advanced_server).
#include "http_server.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api_error.h"

namespace llmatc::openai {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;

// What sessions share with the server; co-owned by every session so it outlives them whatever the teardown order.
struct ServerState {
    HttpServerOptions options;
    std::shared_ptr<Router> router;
    std::atomic<bool> stopping{false};
    std::atomic<int> active_requests{0};

    void log(llmatc_log_level level, const std::string& line) const {
        if (router->context().log) router->context().log(level, line);
    }
};

struct HttpServer::Impl {
    std::shared_ptr<ServerState> state;
    net::io_context ioc;
    tcp::acceptor acceptor;
    std::optional<net::steady_timer> drain_timer;
    Clock::time_point drain_deadline;

    std::mutex sessions_mutex;
    std::list<std::weak_ptr<Session>> sessions;  // for aborting what is left after run's threads stop

    Impl(const HttpServerOptions& o, std::shared_ptr<Router> r)
        : state(std::make_shared<ServerState>()), ioc(std::max(1, o.n_threads)), acceptor(net::make_strand(ioc)) {
        state->options = o;
        state->router = std::move(r);
    }

    void do_accept();
    void check_drained();
};

// One connection: reads a request, routes it, writes the reply (whole, or as a chunked SSE stream), repeats while
// keep-alive. Everything runs on the connection's strand; only wake() comes from other threads.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, std::shared_ptr<ServerState> server)
        : stream_(std::move(socket)), state_(std::move(server)), server_(*state_) {}

    ~Session() {
        if (pending_) pending_->cancel();  // the client is gone or the server stops: free the engine's work
        if (in_request_) server_.active_requests.fetch_sub(1);
    }

    void start() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read_header(); });
    }

    // Called after run()'s threads stopped: no handler runs concurrently any more.
    void abort() {
        if (pending_) {
            pending_->cancel();
            pending_.reset();
        }
        beast::error_code ec;
        stream_.socket().close(ec);
    }

private:
    void do_read_header() {
        parser_.emplace();
        parser_->body_limit(server_.options.max_body_bytes);
        parser_->header_limit(64 * 1024);
        stream_.expires_after(server_.options.idle_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        auto& req = parser_->get();
        // Refuse an announced oversized body before reading it.
        if (auto length = parser_->content_length(); length && *length > server_.options.max_body_bytes) {
            return refuse(413, "request_too_large",
                          "Request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
                              std::to_string(server_.options.max_body_bytes) + " bytes");
        }
        if (beast::iequals(req[http::field::expect], "100-continue")) {
            continue_line_ = "HTTP/1.1 100 Continue\r\n\r\n";
            stream_.expires_after(server_.options.write_timeout);
            net::async_write(stream_, net::buffer(continue_line_),
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                                 if (ec) return self->do_close();
                                 self->do_read_body();
                             });
            return;
        }
        do_read_body();
    }

    void do_read_body() {
        stream_.expires_after(server_.options.idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read_error(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
            ec == net::error::operation_aborted || ec == net::error::connection_reset) {
            return do_close();
        }
        if (ec == http::error::body_limit) {
            return refuse(413, "request_too_large",
                          "Request body exceeds the limit of " + std::to_string(server_.options.max_body_bytes) +
                              " bytes");
        }
        if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
            return refuse(400, "invalid_http", "Malformed HTTP request: " + ec.message());
        }
        do_close();
    }

    // Answers an unreadable request with an error and closes the connection (the stream position is lost).
    void refuse(int status, const char* code, const std::string& message) {
        begin_request("-", "-");
        keep_alive_ = false;
        linger_ = true;
        send_full(error_response(ApiError(status, "invalid_request_error", code, message)));
    }

    void begin_request(std::string method, std::string target) {
        method_ = std::move(method);
        target_ = std::move(target);
        started_ = Clock::now();
        in_request_ = true;
        server_.active_requests.fetch_add(1);
        usage_ = {};
    }

    void on_read(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        auto& req = parser_->get();
        HttpRequest request;
        request.method = std::string(req.method_string());
        request.target = std::string(req.target());
        request.authorization = std::string(req[http::field::authorization]);
        request.body = std::move(req.body());
        keep_alive_ = req.keep_alive() && !server_.stopping.load();
        begin_request(request.method, request.target);

        Reply reply = server_.router->route(request);
        if (!reply.pending) return send_full(std::move(reply.immediate));

        pending_ = std::move(reply.pending);
        streaming_ = pending_->streaming();
        stream_.expires_never();  // generation may take long; writes set their own deadline
        std::weak_ptr<Session> weak = weak_from_this();
        pending_->start([weak] {
            if (auto self = weak.lock()) self->wake();
        });
        if (streaming_) {
            // HTTP/1.0 has no chunked encoding: the stream is the raw body, ended by closing the connection.
            chunked_ = req.version() >= 11;
            if (!chunked_) keep_alive_ = false;
            out_pending_ = chunked_ ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.0 200 OK\r\n";
            out_pending_ += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nServer: llm-atc\r\n";
            if (chunked_) out_pending_ += "Transfer-Encoding: chunked\r\n";
            out_pending_ += keep_alive_ ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
            header_in_buffer_ = true;
            status_ = 200;
        }
        start_probe();
        on_wake();
    }

    // Thread-safe: coalesces wake-ups into one handler on the strand.
    void wake() {
        if (wake_posted_.exchange(true)) return;
        net::post(stream_.get_executor(), [self = shared_from_this()] { self->on_wake(); });
    }

    void on_wake() {
        wake_posted_.store(false);
        if (!pending_) return;
        if (!streaming_) {
            std::string unused;
            if (!pending_->poll(unused)) return;
            HttpResponse response = pending_->response();
            usage_ = pending_->usage();
            pending_.reset();
            return send_full(std::move(response));
        }
        // Produced bytes go through chunk framing; the header (already in the buffer) goes out as is.
        std::string produced;
        const bool done = pending_->poll(produced);
        usage_ = pending_->usage();
        if (!produced.empty()) append_chunk(produced);
        if (done) {
            if (chunked_) out_pending_ += "0\r\n\r\n";
            pending_.reset();
            last_chunk_queued_ = true;
        } else if (out_pending_.size() > server_.options.max_buffered_stream_bytes) {
            server_.log(LLMATC_LOG_WARN, "dropping a streaming client that stopped reading (" + target_path() + ")");
            status_ = 499;
            return do_close();
        }
        maybe_write_stream();
    }

    void append_chunk(const std::string& data) {
        if (!chunked_) {
            out_pending_ += data;
            return;
        }
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
        out_pending_ += size_line;
        out_pending_ += data;
        out_pending_ += "\r\n";
    }

    void maybe_write_stream() {
        if (writing_ || out_pending_.empty()) return;
        out_writing_.swap(out_pending_);
        out_pending_.clear();
        writing_ = true;
        const bool final_write = last_chunk_queued_;
        stream_.expires_after(server_.options.write_timeout);
        net::async_write(stream_, net::buffer(out_writing_),
                         [self = shared_from_this(), final_write](beast::error_code ec, size_t) {
                             self->writing_ = false;
                             self->stream_.expires_never();
                             if (ec) {
                                 self->status_ = 499;  // client closed the request
                                 self->server_.log(LLMATC_LOG_INFO, "client disconnected during " +
                                                                        self->target_path() + " (" + ec.message() +
                                                                        "); cancelling its request");
                                 return self->do_close();
                             }
                             self->header_in_buffer_ = false;
                             if (final_write && self->out_pending_.empty()) return self->response_complete();
                             self->maybe_write_stream();
                         });
    }

    void send_full(HttpResponse response) {
        auto res = std::make_shared<http::response<http::string_body>>();
        res->version(11);
        res->result(static_cast<http::status>(response.status));
        res->set(http::field::server, "llm-atc");
        res->set(http::field::content_type, response.content_type);
        for (const auto& [name, value] : response.headers) res->set(name, value);
        keep_alive_ = keep_alive_ && !server_.stopping.load();  // tell the client when this is the last response
        res->keep_alive(keep_alive_);
        res->body() = std::move(response.body);
        res->prepare_payload();
        status_ = response.status;
        full_response_ = res;
        stream_.expires_after(server_.options.write_timeout);
        http::async_write(stream_, *res, [self = shared_from_this()](beast::error_code ec, size_t) {
            self->full_response_.reset();
            self->stream_.expires_never();
            if (ec) return self->do_close();
            self->response_complete();
        });
    }

    std::string target_path() const { return target_.substr(0, target_.find('?')); }

    void finish_request_bookkeeping() {
        if (!in_request_) return;
        in_request_ = false;
        server_.active_requests.fetch_sub(1);
        const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
        server_.router->record(target_, status_, seconds);
        char line[512];
        std::snprintf(line, sizeof line, "%s %s %d prompt_tokens=%lld completion_tokens=%lld %.1f ms",
                      method_.c_str(), target_path().c_str(), status_, static_cast<long long>(usage_.prompt_tokens),
                      static_cast<long long>(usage_.completion_tokens), seconds * 1000.0);
        server_.log(LLMATC_LOG_INFO, line);
    }

    void response_complete() {
        finish_request_bookkeeping();
        last_chunk_queued_ = false;
        streaming_ = false;
        if (linger_) return lingering_close();
        if (!keep_alive_ || server_.stopping.load()) return do_close();
        if (probe_reading_) {
            // The probe's handler starts the next read once its cancellation lands.
            next_read_after_probe_ = true;
            beast::error_code ignored;
            stream_.socket().cancel(ignored);
            return;
        }
        do_read_header();
    }

    // While a reply is pending, read from the socket to notice a client that goes away (EOF or reset), so its
    // engine work is cancelled at once. Bytes that arrive (a pipelined request) are kept for the next read.
    void start_probe() {
        if (probe_reading_ || closed_) return;
        if (buffer_.size() >= 64 * 1024) return;  // enough pipelined input held; stop reading for now
        probe_reading_ = true;
        stream_.socket().async_read_some(
            buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
                self->probe_reading_ = false;
                if (!ec) {
                    self->buffer_.commit(n);
                    if (self->next_read_after_probe_) {
                        self->next_read_after_probe_ = false;
                        return self->do_read_header();
                    }
                    if (self->pending_ || self->writing_) self->start_probe();
                    return;
                }
                if (ec == net::error::operation_aborted && self->next_read_after_probe_) {
                    self->next_read_after_probe_ = false;
                    return self->do_read_header();
                }
                if (ec == net::error::operation_aborted && !self->in_request_) return;
                // EOF or reset while the reply was still being produced: the client left early. (After the reply
                // is complete, a client closing right after reading it is normal.)
                if (self->in_request_ && self->pending_) {
                    self->status_ = 499;
                    self->server_.log(LLMATC_LOG_INFO, "client disconnected during " + self->target_path() +
                                                           "; cancelling its request");
                }
                self->do_close();
            });
    }

    // After refusing a request whose body was not read: stop sending, then read and discard what the client still
    // sends for a moment, so its TCP stack does not answer our error with a reset before the client reads it.
    void lingering_close() {
        linger_ = false;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(std::chrono::seconds(2));
        drain_budget_ = 2 * server_.options.max_body_bytes + (1 << 20);
        drain();
    }

    void drain() {
        auto scratch = std::make_shared<std::array<char, 16384>>();
        stream_.async_read_some(net::buffer(*scratch),
                                [self = shared_from_this(), scratch](beast::error_code ec, size_t n) {
                                    if (ec || n >= self->drain_budget_) return self->do_close();
                                    self->drain_budget_ -= n;
                                    self->drain();
                                });
    }

    void do_close() {
        if (closed_) return;
        closed_ = true;
        if (pending_) {
            pending_->cancel();
            pending_.reset();
        }
        finish_request_bookkeeping();
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::shared_ptr<ServerState> state_;
    ServerState& server_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<http::response<http::string_body>> full_response_;
    std::string continue_line_;

    std::shared_ptr<PendingReply> pending_;
    std::atomic<bool> wake_posted_{false};
    bool streaming_ = false;
    bool chunked_ = true;
    bool keep_alive_ = true;
    bool closed_ = false;
    bool in_request_ = false;
    bool writing_ = false;
    bool header_in_buffer_ = false;
    bool last_chunk_queued_ = false;
    bool probe_reading_ = false;
    bool next_read_after_probe_ = false;
    bool linger_ = false;
    uint64_t drain_budget_ = 0;
    std::string out_pending_;
    std::string out_writing_;

    std::string method_;
    std::string target_;
    Clock::time_point started_;
    int status_ = 0;
    UsageCounts usage_;
};

void HttpServer::Impl::do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
            state->log(LLMATC_LOG_WARN, "accept failed: " + ec.message());
        } else if (!state->stopping.load()) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);  // SSE chunks are small; do not wait for more
            auto session = std::make_shared<Session>(std::move(socket), state);
            {
                std::lock_guard lock(sessions_mutex);
                // Forget sessions that have ended, so the list tracks the live connections.
                sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
                sessions.push_back(session);
            }
            session->start();
        }
        if (acceptor.is_open()) do_accept();
    });
}

HttpServer::HttpServer(const HttpServerOptions& options, std::shared_ptr<Router> router)
    : impl_(std::make_shared<Impl>(options, std::move(router))) {
    if (options.n_threads < 1) throw std::runtime_error("the HTTP server needs at least 1 I/O thread");
    const std::string where = options.host + ":" + std::to_string(options.port);
    beast::error_code ec;
    tcp::resolver resolver(impl_->ioc);
    auto endpoints = resolver.resolve(options.host, std::to_string(options.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || endpoints.empty()) throw std::runtime_error("cannot resolve the listen address " + where + ": " + ec.message());
    tcp::endpoint endpoint = endpoints.begin()->endpoint();
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
}

HttpServer::~HttpServer() = default;

uint16_t HttpServer::port() const {
    beast::error_code ec;
    auto endpoint = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : endpoint.port();
}

void HttpServer::run() {
    Impl& impl = *impl_;
    impl.do_accept();
    auto worker = [&impl] {
        for (;;) {
            try {
                impl.ioc.run();
                return;
            } catch (const std::exception& e) {
                // A handler threw: log it and keep serving the other connections.
                impl.state->log(LLMATC_LOG_ERROR, std::string("HTTP handler failed: ") + e.what());
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < impl.state->options.n_threads; ++i) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();

    // Nothing runs on the io_context now: abort what is left (cancels engine work of unfinished replies).
    std::list<std::weak_ptr<Session>> sessions;
    {
        std::lock_guard lock(impl.sessions_mutex);
        sessions.swap(impl.sessions);
    }
    for (auto& w : sessions) {
        if (auto s = w.lock()) s->abort();
    }
}

void HttpServer::Impl::check_drained() {
    const int active = state->active_requests.load();
    if (active == 0 || Clock::now() >= drain_deadline) {
        if (active > 0) state->log(LLMATC_LOG_WARN, "grace period over: aborting " + std::to_string(active) + " request(s)");
        ioc.stop();
        return;
    }
    drain_timer->expires_after(std::chrono::milliseconds(20));
    drain_timer->async_wait([this](beast::error_code ec) {
        if (!ec) check_drained();
    });
}

void HttpServer::stop(uint32_t grace_ms) {
    Impl* impl = impl_.get();
    if (impl->state->stopping.exchange(true)) return;
    // Handlers capture the raw Impl: the io_context lives inside it, so none can outlive it.
    net::post(impl->ioc, [impl, grace_ms] {
        beast::error_code ec;
        impl->acceptor.close(ec);
        impl->drain_deadline = Clock::now() + std::chrono::milliseconds(grace_ms);
        impl->drain_timer.emplace(impl->ioc);
        impl->check_drained();
    });
}

}  // namespace llmatc::openai

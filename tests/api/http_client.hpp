#pragma once
// A minimal HTTP/1.1 client over raw sockets for the server tests: what a client sends is
// exactly what the test wrote, hostile bytes included.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

namespace covermap::test {

struct Reply {
    int status = 0;
    std::string head;
    std::string body;
    bool closed_without_answer = false;
    std::string header(const std::string& name) const {
        auto lower = [](std::string s) {
            for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return s;
        };
        auto h = lower(head);
        auto at = h.find("\r\n" + lower(name) + ":");
        if (at == std::string::npos) return "";
        auto start = at + name.size() + 3;
        auto end = head.find("\r\n", start);
        auto v = head.substr(start, end - start);
        return v.substr(v.find_first_not_of(' '));
    }
};

/// Connects from a loopback address of its own ("127.0.0.7": every 127/8 address is this host),
/// so that a test can be several clients. Empty: the kernel's choice (127.0.0.1).
inline int connect_from(unsigned short port, const std::string& from) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (!from.empty()) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            ::close(fd);
            return -1;
        }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

inline int connect_to(unsigned short port) { return connect_from(port, ""); }

// Sends raw bytes from a loopback address of its own (connect_from), reads until the server
// closes (requests say Connection: close).
inline Reply raw_from(unsigned short port, const std::string& from, const std::string& bytes) {
    Reply r;
    int fd = connect_from(port, from);
    if (fd < 0) return r;
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    std::string all;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) all.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    auto split = all.find("\r\n\r\n");
    if (split == std::string::npos) {
        r.closed_without_answer = true;
        return r;
    }
    r.head = all.substr(0, split + 2);
    r.body = all.substr(split + 4);
    r.status = std::atoi(all.c_str() + 9);
    return r;
}

inline Reply raw(unsigned short port, const std::string& bytes) { return raw_from(port, "", bytes); }

// The bytes of a request that asks the server to close after answering.
inline std::string request_bytes(const std::string& method, const std::string& target, const std::string& token,
                                 const std::string& body, const std::vector<std::string>& headers) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    for (const auto& h : headers) req += h + "\r\n";
    if (!body.empty() || method == "POST" || method == "PUT")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return req + "\r\n" + body;
}

inline Reply request(unsigned short port, const std::string& method, const std::string& target,
                     const std::string& token = "", const std::string& body = "",
                     const std::vector<std::string>& headers = {}) {
    return raw(port, request_bytes(method, target, token, body, headers));
}

/// A request from a loopback address of its own ("127.0.0.7"), as another client would send it.
inline Reply request_from(unsigned short port, const std::string& from, const std::string& method,
                          const std::string& target, const std::string& token = "", const std::string& body = "",
                          const std::vector<std::string>& headers = {}) {
    return raw_from(port, from, request_bytes(method, target, token, body, headers));
}

/// A loopback listener nobody should connect to: a URL pointing at it shows whether the server
/// was made to open a URL it was given.
class Bait {
public:
    Bait() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 8);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~Bait() { ::close(fd_); }
    Bait(const Bait&) = delete;
    Bait& operator=(const Bait&) = delete;
    /// http://127.0.0.1:port + path.
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    /// True when a connection is waiting (or arrives within ms).
    bool connected(int ms = 0) const {
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, ms) > 0;
    }

private:
    int fd_ = -1;
    unsigned short port_ = 0;
};

/// Percent-encodes an id for a path segment (what a browser's encodeURIComponent does).
inline std::string url(const std::string& id) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : id) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace covermap::test

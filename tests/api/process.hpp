#pragma once
// The real covermap executable as a child process: `serve` on a free port, `token add`.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support.hpp"

namespace covermap::test {

struct Process {
    pid_t pid = -1;
    unsigned short port = 0;
};

/// `covermap serve --db uri --port 0` plus extra arguments; its pid and port (0 if it failed;
/// then err_out, when given, gets what it wrote on stderr).
inline Process serve(const std::string& db, const std::vector<std::string>& extra = {},
                     std::string* err_out = nullptr) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) return {};
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        if (err_out)
            dup2(err[1], STDERR_FILENO);
        else
            dup2(::open("/dev/null", O_WRONLY), STDERR_FILENO);
        std::vector<std::string> args = {COVERMAP_BIN, "serve", "--db", db, "--port", "0", "--no-access-log"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(COVERMAP_BIN, argv.data());
        _exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    std::string text;
    char c;
    while (::read(out[0], &c, 1) == 1) {
        text += c;
        if (c == '\n' && text.find("http://127.0.0.1:") != std::string::npos) break;
    }
    ::close(out[0]);
    auto at = text.find("http://127.0.0.1:");
    unsigned short port = at == std::string::npos ? 0 : static_cast<unsigned short>(std::atoi(text.c_str() + at + 17));
    if (port == 0) {
        std::string e;
        while (::read(err[0], &c, 1) == 1) e += c;
        if (err_out) *err_out = e;
        int status = 0;
        waitpid(pid, &status, 0);
    }
    ::close(err[0]);
    return {pid, port};
}

/// A new token of a role, made by `covermap token add`.
inline std::string token(const std::string& db, const std::string& role) {
    std::string cmd =
        std::string(COVERMAP_BIN) + " token add --db '" + db + "' --role " + role + " --name test-" + role;
    auto out = capture(cmd);
    return out.substr(0, out.find('\n'));
}

}  // namespace covermap::test

#pragma once
// The report commands (snapshot, target, report) of the command line, kept apart from cli.cpp.

#include <functional>
#include <optional>

namespace CLI {
class App;
}

namespace covermap::api {

/// Adds snapshot, target set|list|remove and report to app; the returned function runs the one
/// that was parsed (its exit code) or returns nullopt when none was.
std::function<std::optional<int>()> add_report_commands(CLI::App& app);

}  // namespace covermap::api

#include "covermap/geo/credit_code.hpp"

namespace covermap::geo {

namespace {
constexpr std::string_view kCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
}

char credit_code_check(std::string_view first17) {
    static constexpr int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (std::size_t i = 0; i < 17 && i < first17.size(); ++i) {
        auto v = kCharset.find(first17[i]);
        sum += static_cast<int>(v == std::string_view::npos ? 0 : v) * weights[i];
    }
    return kCharset[static_cast<std::size_t>((31 - sum % 31) % 31)];
}

std::optional<std::string> credit_code_problem(std::string_view code) {
    if (code.size() != 18) return "has " + std::to_string(code.size()) + " characters, not 18";
    for (std::size_t i = 0; i < code.size(); ++i)
        if (kCharset.find(code[i]) == std::string_view::npos)
            return "character " + std::to_string(i + 1) + " '" + std::string(1, code[i]) +
                   "' is not one of 0-9 A-Y (without I O S V Z)";
    // Characters 3-8: a GB/T 2260 code, provinces 11-82.
    for (std::size_t i = 2; i < 8; ++i)
        if (code[i] < '0' || code[i] > '9') return "characters 3-8 are not a 6-digit administrative code";
    int province = (code[2] - '0') * 10 + (code[3] - '0');
    if (province < 11 || province > 82)
        return "administrative code " + std::string(code.substr(2, 6)) + " names no province";
    char want = credit_code_check(code.substr(0, 17));
    if (code[17] != want) return "check character is '" + std::string(1, code[17]) + "', should be '" + want + "'";
    return std::nullopt;
}

}  // namespace covermap::geo

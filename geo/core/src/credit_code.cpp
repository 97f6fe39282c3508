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
    // In Chinese: the planner's flags and the import's notes show it to the people who fix it.
    if (code.size() != 18) return "长度为 " + std::to_string(code.size()) + " 位，应为 18 位";
    for (std::size_t i = 0; i < code.size(); ++i)
        if (kCharset.find(code[i]) == std::string_view::npos)
            return "第 " + std::to_string(i + 1) + " 位“" + std::string(1, code[i]) +
                   "”不是 0-9、A-Y（不含 I O S V Z）中的字符";
    // Characters 3-8: a GB/T 2260 code, provinces 11-82.
    for (std::size_t i = 2; i < 8; ++i)
        if (code[i] < '0' || code[i] > '9') return "第 3-8 位不是 6 位行政区划代码";
    int province = (code[2] - '0') * 10 + (code[3] - '0');
    if (province < 11 || province > 82) return "行政区划代码 " + std::string(code.substr(2, 6)) + " 不对应任何省份";
    char want = credit_code_check(code.substr(0, 17));
    if (code[17] != want) return "校验码为“" + std::string(1, code[17]) + "”，应为“" + want + "”";
    return std::nullopt;
}

}  // namespace covermap::geo

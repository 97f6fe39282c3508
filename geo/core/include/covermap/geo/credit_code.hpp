#pragma once
/// \file The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters of
/// 0-9 and A-Y without I, O, S, V, Z; a registration authority (1 机构编制, 5 民政, 9 工商…),
/// a type, the 6-digit administrative code (GB/T 2260), a 9-character organization code, and
/// a check character (weights 3^i mod 31).

#include <optional>
#include <string>
#include <string_view>

namespace covermap::geo {

/// The check character of the first 17 characters.
char credit_code_check(std::string_view first17);

/// Why code is not a valid credit code (length, a character outside the set, the 6-digit
/// administrative code, the check character), or nullopt when it is valid.
std::optional<std::string> credit_code_problem(std::string_view code);

}  // namespace covermap::geo

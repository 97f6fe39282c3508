#pragma once
// One table per enum: each value's contract name (English, in JSON, URLs and stores) and its
// Chinese name (the page, Excel files, reports); to_string, chinese_name and parse read it, so
// a value is named in one place instead of a switch per direction.

#include <optional>
#include <string_view>

namespace covermap::geo::detail {

template <class E>
struct EnumName {
    E value;
    std::string_view name;
    std::string_view chinese;
};

template <class E, std::size_t N>
std::string_view name_of(const EnumName<E> (&table)[N], E v) {
    for (const auto& n : table)
        if (n.value == v) return n.name;
    return table[0].name;
}

template <class E, std::size_t N>
std::string_view chinese_of(const EnumName<E> (&table)[N], E v) {
    for (const auto& n : table)
        if (n.value == v) return n.chinese;
    return table[0].chinese;
}

// The value named s, in English or Chinese; nullopt otherwise.
template <class E, std::size_t N>
std::optional<E> value_of(const EnumName<E> (&table)[N], std::string_view s) {
    for (const auto& n : table)
        if (s == n.name || s == n.chinese) return n.value;
    return std::nullopt;
}

}  // namespace covermap::geo::detail

#pragma once
/// \file Work shared between a few threads: the machines covermap runs on have 2–8 cores and
/// every parallel loop here is a flat loop over independent items, so a pool library would add
/// a dependency for twelve lines.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace covermap::geo::detail {

/// Threads for the CPU-bound loops: both cores of the 2-core machines the targets are set on.
inline unsigned default_threads() { return std::max(1u, std::min(2u, std::thread::hardware_concurrency())); }

/// Calls f(0 .. n-1) on `threads` threads (the caller's among them), handing out batches (of 64
/// small items; of 1 for a few long ones). One batch or less runs on the caller's thread alone.
template <class F>
void on_threads(unsigned threads, std::size_t n, F f, std::size_t batch = 64) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t b; (b = next.fetch_add(batch)) < n;)
            for (std::size_t k = b; k < std::min(n, b + batch); ++k) f(k);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads && n > batch; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
}

}  // namespace covermap::geo::detail

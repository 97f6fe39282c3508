#include "covermap/geo/locate.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "covermap/geo/error.hpp"
#include "detail/ogr.hpp"

namespace covermap::geo {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string trimmed(const char* s) {
    std::string cell(s ? s : "");
    auto b = cell.find_first_not_of(" \t\r");
    auto e = cell.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : cell.substr(b, e - b + 1);
}

// A CSV through OGR's CSV driver (quotes, a byte-order mark, CRLF): on_head(names), then
// visit(line number, cells) per row, every cell as text (no type guessing), blank rows skipped.
template <class H, class F>
void read_csv(const std::string& path, H on_head, F visit) {
    detail::ensure_gdal();
    const char* drivers[] = {"CSV", nullptr};
    const char* options[] = {"AUTODETECT_TYPE=NO", "HEADERS=YES", "EMPTY_STRING_AS_NULL=NO", nullptr};
    const std::string name = "CSV:" + path;  // the prefix makes the driver take any extension
    detail::DatasetPtr ds(GDALDataset::FromHandle(GDALOpenEx(name.c_str(), GDAL_OF_VECTOR, drivers, options, nullptr)));
    if (!ds || ds->GetLayerCount() == 0) {
        if (!std::ifstream(path)) throw format_error(path, "", "cannot open");
        std::string why = CPLGetLastErrorMsg();
        throw format_error(path, "", "not a CSV with a header row" + (why.empty() ? "" : ": " + why));
    }
    OGRLayer* l = ds->GetLayer(0);
    OGRFeatureDefn* defn = l->GetLayerDefn();
    std::vector<std::string> head;
    for (int i = 0; i < defn->GetFieldCount(); ++i) head.push_back(trimmed(defn->GetFieldDefn(i)->GetNameRef()));
    if (head.empty()) throw format_error(path, "", "empty file");
    on_head(head);
    std::vector<std::string> cells;
    l->ResetReading();
    while (auto f = detail::own(l->GetNextFeature())) {
        cells.clear();
        bool blank = true;
        for (int i = 0; i < defn->GetFieldCount(); ++i) {
            cells.push_back(f->IsFieldSetAndNotNull(i) ? trimmed(f->GetFieldAsString(i)) : "");
            blank = blank && cells.back().empty();
        }
        if (!blank) visit(static_cast<int>(f->GetFID()) + 1, cells);  // FID 1 is line 2
    }
}

double parse_number(const std::string& s, const std::string& path, int line, const char* what) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v))
        throw format_error(path, "line " + std::to_string(line), std::string(what) + " '" + s + "' is not a number");
    return v;
}

// Weight of point i in the objective.
double w(const LocateProblem& pr, std::size_t i) { return pr.weighted ? pr.demand[i] : 1.0; }

// Weighted cost of serving i from j.
double wc(const LocateProblem& pr, std::size_t i, std::size_t j) { return w(pr, i) * pr.c(i, j); }

struct Solution {
    std::vector<std::size_t> medians;
    std::vector<std::size_t> assign;
    double cost = kInf;
};

// Uncapacitated: each point to its cheapest median.
double assign_nearest(const LocateProblem& pr, const std::vector<std::size_t>& medians,
                      std::vector<std::size_t>& assign) {
    std::size_t n = pr.size();
    assign.assign(n, 0);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        double best = kInf;
        for (auto m : medians) {
            double c = m == i ? -1 : wc(pr, i, m);  // a median serves itself
            if (c < best) {
                best = c;
                assign[i] = m;
            }
        }
        total += assign[i] == i ? 0 : best;
    }
    return total;
}

// Capacitated, single source: medians serve themselves first; the others in order of regret
// (second-cheapest minus cheapest feasible median), then shift and swap repairs while they pay.
double assign_capacitated(const LocateProblem& pr, const std::vector<std::size_t>& medians,
                          std::vector<std::size_t>& assign) {
    std::size_t n = pr.size();
    double cap = *pr.capacity;
    std::map<std::size_t, double> left;
    for (auto m : medians) left[m] = cap - pr.demand[m];
    assign.assign(n, n);
    for (auto m : medians) {
        if (left[m] < -1e-9) return kInf;
        assign[m] = m;
    }
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < n; ++i)
        if (assign[i] == n) todo.push_back(i);
    while (!todo.empty()) {
        // Pick the point with the largest regret among feasible medians.
        std::size_t pick = 0, pick_m = n;
        double pick_regret = -1;
        for (std::size_t t = 0; t < todo.size(); ++t) {
            std::size_t i = todo[t];
            double b1 = kInf, b2 = kInf;
            std::size_t m1 = n;
            for (auto m : medians) {
                if (left[m] + 1e-9 < pr.demand[i]) continue;
                double c = wc(pr, i, m);
                if (c < b1) {
                    b2 = b1;
                    b1 = c;
                    m1 = m;
                } else if (c < b2)
                    b2 = c;
            }
            if (m1 == n) return kInf;  // nobody can take it
            double regret = b2 == kInf ? 1e300 : b2 - b1;
            if (regret > pick_regret) {
                pick_regret = regret;
                pick = t;
                pick_m = m1;
            }
        }
        std::size_t i = todo[pick];
        assign[i] = pick_m;
        left[pick_m] -= pr.demand[i];
        todo.erase(todo.begin() + static_cast<long>(pick));
    }
    // Repairs: shift one point, or swap two points between medians, while it lowers the cost.
    for (bool improved = true; improved;) {
        improved = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (assign[i] == i) continue;
            for (auto m : medians) {
                if (m == assign[i] || left[m] + 1e-9 < pr.demand[i]) continue;
                if (wc(pr, i, m) + 1e-9 < wc(pr, i, assign[i])) {
                    left[assign[i]] += pr.demand[i];
                    left[m] -= pr.demand[i];
                    assign[i] = m;
                    improved = true;
                }
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (assign[i] == i) continue;
            for (std::size_t j = i + 1; j < n; ++j) {
                std::size_t a = assign[i], b = assign[j];
                if (assign[j] == j || a == b) continue;
                double delta = wc(pr, i, b) + wc(pr, j, a) - wc(pr, i, a) - wc(pr, j, b);
                if (delta >= -1e-9) continue;
                if (left[b] + pr.demand[j] + 1e-9 < pr.demand[i] || left[a] + pr.demand[i] + 1e-9 < pr.demand[j])
                    continue;
                left[a] += pr.demand[i] - pr.demand[j];
                left[b] += pr.demand[j] - pr.demand[i];
                std::swap(assign[i], assign[j]);
                improved = true;
            }
        }
    }
    double total = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (assign[i] != i) total += wc(pr, i, assign[i]);
    return total;
}

double evaluate(const LocateProblem& pr, Solution& s) {
    s.cost = pr.capacity ? assign_capacitated(pr, s.medians, s.assign) : assign_nearest(pr, s.medians, s.assign);
    return s.cost;
}

// Greedy add: each step adds the median that lowers the (uncapacitated) cost most.
std::vector<std::size_t> greedy(const LocateProblem& pr) {
    std::size_t n = pr.size();
    std::vector<double> best(n, kInf);
    std::vector<char> is_median(n, 0);
    std::vector<std::size_t> medians;
    for (std::size_t k = 0; k < pr.p; ++k) {
        double best_total = kInf;
        std::size_t pick = 0;
        for (std::size_t j = 0; j < n; ++j) {
            if (is_median[j]) continue;
            double total = 0;
            for (std::size_t i = 0; i < n; ++i) total += std::min(best[i], i == j ? 0.0 : wc(pr, i, j));
            if (total < best_total) {
                best_total = total;
                pick = j;
            }
        }
        is_median[pick] = 1;
        medians.push_back(pick);
        for (std::size_t i = 0; i < n; ++i) best[i] = std::min(best[i], i == pick ? 0.0 : wc(pr, i, pick));
    }
    return medians;
}

// Vertex substitution (Teitz–Bart), best improvement: swap one median out, one point in.
// Uncapacitated swaps are priced in O(n) with each point's nearest and second-nearest median.
void local_search(const LocateProblem& pr, Solution& s) {
    std::size_t n = pr.size();
    for (bool improved = true; improved;) {
        improved = false;
        std::vector<char> is_median(n, 0);
        for (auto m : s.medians) is_median[m] = 1;
        double best = s.cost;
        std::size_t best_out = 0, best_in = 0;
        if (!pr.capacity) {
            std::vector<double> d1(n), d2(n);
            std::vector<std::size_t> m1(n);
            for (std::size_t i = 0; i < n; ++i) {
                d1[i] = d2[i] = kInf;
                for (auto m : s.medians) {
                    double c = m == i ? 0 : wc(pr, i, m);
                    if (c < d1[i]) {
                        d2[i] = d1[i];
                        d1[i] = c;
                        m1[i] = m;
                    } else if (c < d2[i])
                        d2[i] = c;
                }
            }
            for (std::size_t in = 0; in < n; ++in) {
                if (is_median[in]) continue;
                for (std::size_t k = 0; k < s.medians.size(); ++k) {
                    std::size_t out = s.medians[k];
                    double total = 0;
                    for (std::size_t i = 0; i < n && total < best; ++i) {
                        double cin = i == in ? 0 : wc(pr, i, in);
                        double keep = m1[i] == out ? d2[i] : d1[i];
                        total += std::min(cin, keep);
                    }
                    if (total + 1e-9 < best) {
                        best = total;
                        best_out = k;
                        best_in = in;
                    }
                }
            }
        } else {
            for (std::size_t in = 0; in < n; ++in) {
                if (is_median[in]) continue;
                for (std::size_t k = 0; k < s.medians.size(); ++k) {
                    Solution t;
                    t.medians = s.medians;
                    t.medians[k] = in;
                    if (evaluate(pr, t) + 1e-9 < best) {
                        best = t.cost;
                        best_out = k;
                        best_in = in;
                    }
                }
            }
        }
        if (best + 1e-9 < s.cost) {
            s.medians[best_out] = best_in;
            evaluate(pr, s);
            improved = true;
        }
    }
}

// Lagrangian relaxation of "each point assigned once" (multipliers λ_i) of the uncapacitated
// problem, by subgradient steps: a lower bound for both variants.
double lagrangian_bound(const LocateProblem& pr, double upper) {
    std::size_t n = pr.size();
    std::vector<double> lambda(n);
    for (std::size_t i = 0; i < n; ++i) {
        double m = kInf;
        for (std::size_t j = 0; j < n; ++j)
            if (j != i) m = std::min(m, wc(pr, i, j));
        lambda[i] = n > 1 ? m : 0;
    }
    double best = 0, theta = 2.0;
    int stall = 0;
    std::vector<double> rho(n);
    std::vector<std::size_t> order(n);
    for (int it = 0; it < 400 && theta > 1e-4; ++it) {
        for (std::size_t j = 0; j < n; ++j) {
            rho[j] = 0;
            for (std::size_t i = 0; i < n; ++i) rho[j] += std::min(0.0, (i == j ? 0.0 : wc(pr, i, j)) - lambda[i]);
        }
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + static_cast<long>(pr.p), order.end(),
                          [&](auto a, auto b) { return rho[a] < rho[b]; });
        double value = std::accumulate(lambda.begin(), lambda.end(), 0.0);
        for (std::size_t k = 0; k < pr.p; ++k) value += rho[order[k]];
        if (value > best + 1e-9) {
            best = value;
            stall = 0;
        } else if (++stall > 20) {
            theta /= 2;
            stall = 0;
        }
        std::vector<double> g(n, 1.0);
        for (std::size_t k = 0; k < pr.p; ++k) {
            std::size_t j = order[k];
            for (std::size_t i = 0; i < n; ++i)
                if ((i == j ? 0.0 : wc(pr, i, j)) - lambda[i] < 0) g[i] -= 1;
        }
        double norm = 0;
        for (double v : g) norm += v * v;
        if (norm == 0) break;  // the relaxed solution is feasible: the bound is exact
        double step = theta * (upper - value) / norm;
        for (std::size_t i = 0; i < n; ++i) lambda[i] += step * g[i];
    }
    return best;
}

}  // namespace

LocateProblem read_points_csv(const std::string& path) {
    LocateProblem pr;
    std::vector<std::pair<double, double>> xy;
    int ci = -1, cx = -1, cy = -1, cd = -1;
    read_csv(
        path,
        [&](const std::vector<std::string>& head) {
            auto col = [&](const char* name) -> int {
                auto it = std::find(head.begin(), head.end(), name);
                return it == head.end() ? -1 : static_cast<int>(it - head.begin());
            };
            ci = col("id"), cx = col("x"), cy = col("y"), cd = col("demand");
            if (ci < 0 || cx < 0 || cy < 0) throw format_error(path, "", "missing required column 'id', 'x' or 'y'");
        },
        [&](int no, const std::vector<std::string>& cells) {
            pr.ids.push_back(cells[static_cast<std::size_t>(ci)]);
            xy.emplace_back(parse_number(cells[static_cast<std::size_t>(cx)], path, no, "x"),
                            parse_number(cells[static_cast<std::size_t>(cy)], path, no, "y"));
            double dm = cd >= 0 ? parse_number(cells[static_cast<std::size_t>(cd)], path, no, "demand") : 1.0;
            if (dm < 0) throw format_error(path, "line " + std::to_string(no), "negative demand");
            pr.demand.push_back(dm);
        });
    std::size_t n = pr.ids.size();
    pr.cost.resize(n * n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            pr.cost[i * n + j] = std::hypot(xy[i].first - xy[j].first, xy[i].second - xy[j].second);
    return pr;
}

LocateProblem read_costs_csv(const std::string& path) {
    std::map<std::string, std::size_t> index;
    std::vector<std::tuple<std::size_t, std::size_t, double>> rows;
    auto id = [&](const std::string& s) {
        auto [it, fresh] = index.emplace(s, index.size());
        return it->second;
    };
    read_csv(
        path,
        [&](const std::vector<std::string>& head) {
            if (head.size() < 3 || head[0] != "i" || head[1] != "j" || head[2] != "cost")
                throw format_error(path, "line 1", "header must be i,j,cost");
        },
        [&](int no, const std::vector<std::string>& cells) {
            double c = parse_number(cells[2], path, no, "cost");
            if (c < 0) throw format_error(path, "line " + std::to_string(no), "negative cost");
            rows.emplace_back(id(cells[0]), id(cells[1]), c);
        });
    LocateProblem pr;
    std::size_t n = index.size();
    pr.ids.resize(n);
    for (auto& [name, i] : index) pr.ids[i] = name;
    pr.demand.assign(n, 1.0);
    pr.cost.assign(n * n, kInf);
    for (std::size_t i = 0; i < n; ++i) pr.cost[i * n + i] = 0;
    for (auto [i, j, c] : rows) pr.cost[i * n + j] = c;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            if (pr.cost[i * n + j] == kInf)
                throw format_error(path, "", "not a full matrix: no cost from " + pr.ids[i] + " to " + pr.ids[j]);
    return pr;
}

double objective(const LocateProblem& pr, const std::vector<std::size_t>& assignment) {
    double total = 0;
    for (std::size_t i = 0; i < assignment.size(); ++i)
        if (assignment[i] != i) total += wc(pr, i, assignment[i]);
    return total;
}

LocateResult solve_p_median(const LocateProblem& pr) {
    std::size_t n = pr.size();
    if (n == 0) throw invalid_argument("no points");
    if (pr.p < 1 || pr.p > n)
        throw invalid_argument("--p must be between 1 and the number of points (" + std::to_string(n) + ")");
    if (pr.capacity && *pr.capacity <= 0) throw invalid_argument("--capacity must be positive");
    if (pr.capacity) {
        double total = std::accumulate(pr.demand.begin(), pr.demand.end(), 0.0);
        if (total > *pr.capacity * pr.p + 1e-9)
            throw invalid_argument("total demand " + std::to_string(total) + " exceeds p × capacity");
    }

    Solution s;
    s.medians = greedy(pr);
    if (evaluate(pr, s) == kInf) {
        // The greedy medians cannot hold the demand under capacities: start from the points
        // with the most demand instead, which spreads capacity.
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return pr.demand[a] > pr.demand[b]; });
        s.medians.assign(order.begin(), order.begin() + static_cast<long>(pr.p));
        evaluate(pr, s);
    }
    local_search(pr, s);

    // Variable neighbourhood search: shake k random swaps, descend, keep the better.
    std::mt19937 rng(pr.seed);
    Solution best = s;
    std::size_t kmax = std::min<std::size_t>(pr.p, std::max<std::size_t>(1, n - pr.p));
    int shakes = pr.capacity ? std::max(10, pr.iterations / 5) : pr.iterations;
    for (int it = 0, k = 1; it < shakes && n > pr.p; ++it) {
        Solution t = best;
        std::vector<char> is_median(n, 0);
        for (auto m : t.medians) is_median[m] = 1;
        for (int step = 0; step < k; ++step) {
            std::size_t out = rng() % t.medians.size();
            std::size_t in;
            do in = rng() % n;
            while (is_median[in]);
            is_median[t.medians[out]] = 0;
            is_median[in] = 1;
            t.medians[out] = in;
        }
        if (evaluate(pr, t) == kInf) continue;
        local_search(pr, t);
        if (t.cost + 1e-9 < best.cost) {
            best = std::move(t);
            k = 1;
        } else {
            k = k % static_cast<int>(kmax) + 1;
        }
    }

    LocateResult r;
    r.feasible = best.cost < kInf;
    r.cost = best.cost;
    r.medians = best.medians;
    std::sort(r.medians.begin(), r.medians.end());
    r.assignment = best.assign;
    r.lower_bound = lagrangian_bound(pr, r.feasible ? r.cost : 1e12);
    return r;
}

}  // namespace covermap::geo

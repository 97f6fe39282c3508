#include "covermap/geo/locate.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <random>

#include "covermap/geo/error.hpp"
#include "support.hpp"

using namespace covermap::geo;

namespace {

LocateProblem random_points(std::size_t n, std::size_t p, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 100);
    std::uniform_int_distribution<int> dem(1, 9);
    LocateProblem pr;
    std::vector<std::pair<double, double>> xy;
    for (std::size_t i = 0; i < n; ++i) {
        pr.ids.push_back("p" + std::to_string(i));
        xy.emplace_back(u(rng), u(rng));
        pr.demand.push_back(dem(rng));
    }
    pr.cost.resize(n * n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            pr.cost[i * n + j] = std::hypot(xy[i].first - xy[j].first, xy[i].second - xy[j].second);
    pr.p = p;
    return pr;
}

// Exhaustive: every median set; every single-source assignment when capacitated.
double brute(const LocateProblem& pr) {
    std::size_t n = pr.size();
    double best = 1e300;
    std::vector<std::size_t> med;
    std::function<void(std::size_t)> choose = [&](std::size_t from) {
        if (med.size() == pr.p) {
            std::vector<std::size_t> assign(n);
            std::vector<double> left;
            for (auto m : med) left.push_back(pr.capacity ? *pr.capacity - pr.demand[m] : 1e300);
            for (double l : left)
                if (l < 0) return;
            std::function<void(std::size_t, double)> go = [&](std::size_t i, double cost) {
                if (cost >= best) return;
                if (i == n) {
                    best = cost;
                    return;
                }
                auto self = std::find(med.begin(), med.end(), i);
                if (self != med.end()) {
                    go(i + 1, cost);
                    return;
                }
                for (std::size_t k = 0; k < med.size(); ++k) {
                    if (left[k] < pr.demand[i]) continue;
                    left[k] -= pr.demand[i];
                    go(i + 1, cost + (pr.weighted ? pr.demand[i] : 1.0) * pr.c(i, med[k]));
                    left[k] += pr.demand[i];
                }
            };
            go(0, 0);
            return;
        }
        for (std::size_t j = from; j < n; ++j) {
            med.push_back(j);
            choose(j + 1);
            med.pop_back();
        }
    };
    choose(0);
    return best;
}

void check_solution(const LocateProblem& pr, const LocateResult& r) {
    ASSERT_TRUE(r.feasible);
    EXPECT_EQ(r.medians.size(), pr.p);
    std::vector<double> load(pr.size(), 0);
    for (std::size_t i = 0; i < pr.size(); ++i) {
        EXPECT_TRUE(std::binary_search(r.medians.begin(), r.medians.end(), r.assignment[i]));
        load[r.assignment[i]] += pr.demand[i];
    }
    for (auto m : r.medians) {
        EXPECT_EQ(r.assignment[m], m) << "a median serves itself";
        if (pr.capacity) {
            EXPECT_LE(load[m], *pr.capacity + 1e-9);
        }
    }
    EXPECT_NEAR(objective(pr, r.assignment), r.cost, 1e-6);
    EXPECT_LE(r.lower_bound, r.cost + 1e-6);
}

}  // namespace

TEST(Locate, OrLibraryPmed1IsSolvedToTheOptimum) {
    auto pr = read_costs_csv(std::string(COVERMAP_TEST_DATA) + "/orlib/pmed1_costs.csv");
    ASSERT_EQ(pr.size(), 100u);
    pr.p = 5;
    auto r = solve_p_median(pr);
    check_solution(pr, r);
    EXPECT_DOUBLE_EQ(r.cost, 5819);  // the published optimum
    EXPECT_GT(r.lower_bound, 0.98 * 5819) << "the Lagrangian bound is tight here";
}

TEST(Locate, UncapacitatedMatchesBruteForce) {
    for (unsigned seed = 1; seed <= 12; ++seed) {
        auto pr = random_points(10, 1 + seed % 3, seed);
        pr.weighted = seed % 2 == 0;
        auto r = solve_p_median(pr);
        check_solution(pr, r);
        EXPECT_NEAR(r.cost, brute(pr), 1e-6) << "seed " << seed;
    }
}

TEST(Locate, CapacitatedWithinOnePercentOfBruteForce) {
    double worst = 0;
    for (unsigned seed = 1; seed <= 12; ++seed) {
        auto pr = random_points(9, 2 + seed % 2, seed + 100);
        double total = 0;
        for (double d : pr.demand) total += d;
        pr.capacity = std::ceil(total / pr.p * 1.15);  // tight: capacity binds
        auto r = solve_p_median(pr);
        check_solution(pr, r);
        double exact = brute(pr);
        ASSERT_LT(exact, 1e299);
        EXPECT_GE(r.cost, exact - 1e-6);
        worst = std::max(worst, r.cost / exact - 1);
    }
    EXPECT_LE(worst, 0.01) << "worst relative gap to the exact optimum";
}

TEST(Locate, BadInput) {
    covermap::test::TempDir dir;
    auto p = random_points(5, 6, 1);
    EXPECT_THROW(solve_p_median(p), invalid_argument);
    p.p = 2;
    p.capacity = 1;  // total demand cannot fit
    EXPECT_THROW(solve_p_median(p), invalid_argument);
    std::ofstream(dir / "bad.csv") << "id,x,y,demand\na,1,2,3\nb,x,2,3\n";
    try {
        read_points_csv(dir / "bad.csv");
        FAIL();
    } catch (const format_error& e) {
        EXPECT_NE(std::string(e.what()).find("line 3: x 'x' is not a number"), std::string::npos) << e.what();
    }
    std::ofstream(dir / "partial.csv") << "i,j,cost\na,b,1\nb,a,1\na,c,2\n";
    EXPECT_THROW(read_costs_csv(dir / "partial.csv"), format_error);
    try {
        read_points_csv(dir / "missing.csv");
        FAIL();
    } catch (const format_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
    }
}

// Files as spreadsheets save them: a byte-order mark, CRLF, quoted names with commas, blank
// rows, any extension.
TEST(Locate, CsvAsSpreadsheetsWriteIt) {
    covermap::test::TempDir dir;
    for (const char* name : {"points.csv", "points.txt"}) {
        std::ofstream(dir / name, std::ios::binary)
            << "\xEF\xBB\xBFid,x,y,demand\r\n\"银州区, 北\",1,2,3\r\n\r\nb,4,6,1\r\n";
        auto pr = read_points_csv(dir / name);
        ASSERT_EQ(pr.ids.size(), 2u) << name;
        EXPECT_EQ(pr.ids[0], "银州区, 北");
        EXPECT_EQ(pr.demand[0], 3);
        EXPECT_DOUBLE_EQ(pr.cost[1], 5.0);
    }
}

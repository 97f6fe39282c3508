// The covermap executable, run as a user runs it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support.hpp"

using covermap::test::TempDir;

namespace {

struct Run {
    int status = -1;
    std::string out;
    std::string err;
};

Run run(const std::string& args, const TempDir& dir) {
    std::string err_file = dir / "stderr.txt";
    std::string cmd = std::string(COVERMAP_BIN) + " " + args + " 2>" + err_file;
    Run r;
    auto ran = covermap::test::shell(cmd);
    r.status = ran.status;
    r.out = std::move(ran.out);
    std::ifstream e(err_file);
    std::stringstream ss;
    ss << e.rdbuf();
    r.err = ss.str();
    return r;
}

}  // namespace

TEST(Cli, HelpListsTheSubcommands) {
    TempDir dir;
    auto r = run("--help", dir);
    EXPECT_EQ(r.status, 0);
    for (const char* sub : {"demo", "import", "coverage"}) EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
}

TEST(Cli, DemoThenCoverageJson) {
    TempDir dir;
    auto demo = run("demo --out " + (dir / "d.gpkg") + " --scale 0.5 --seed 3", dir);
    ASSERT_EQ(demo.status, 0) << demo.err;
    EXPECT_NE(demo.out.find("1126 organizations"), std::string::npos) << demo.out;
    auto cov = run("coverage --db " + (dir / "d.gpkg") + " --level district --format json", dir);
    ASSERT_EQ(cov.status, 0) << cov.err;
    auto j = nlohmann::json::parse(cov.out);
    EXPECT_EQ(j["level"], "district");
    EXPECT_EQ(j["areas"].size(), 7u);
    EXPECT_EQ(j["total"]["orgs"].get<int>() + 1, 1126) << "all but the one placed outside every county";
    double r = j["total"]["org_coverage"];
    EXPECT_GT(r, 0.2);
    EXPECT_LT(r, 0.4);
    auto table = run("coverage --db " + (dir / "d.gpkg") + " --level street --kind social --format table", dir);
    ASSERT_EQ(table.status, 0);
    EXPECT_NE(table.out.find("合计"), std::string::npos);
    EXPECT_NE(table.out.find("组织覆盖率"), std::string::npos);
    auto csv = run("coverage --db " + (dir / "d.gpkg") + " --level park --format csv", dir);
    EXPECT_EQ(csv.out.rfind("code,name,orgs,operating,", 0), 0u);
    // Reproducible: the same seed writes the same data.
    auto again = run("demo --out " + (dir / "e.gpkg") + " --scale 0.5 --seed 3", dir);
    auto cov2 = run("coverage --db " + (dir / "e.gpkg") + " --level grid --format csv", dir);
    auto cov1 = run("coverage --db " + (dir / "d.gpkg") + " --level grid --format csv", dir);
    EXPECT_EQ(cov1.out, cov2.out);
}

TEST(Cli, ErrorsAreOneLineAndNonZero) {
    TempDir dir;
    auto missing = run("coverage --db " + (dir / "nope.gpkg") + " --level grid", dir);
    EXPECT_NE(missing.status, 0);
    EXPECT_NE(missing.err.find("nope.gpkg"), std::string::npos) << missing.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "nope.gpkg")) << "a read must not create a store";

    {
        std::ofstream(dir / "bad.csv")
            << "id,name,kind,employees,party_members,status,lon,lat\n1,甲,enterprise,x,0,operating,1,2\n";
    }
    auto bad = run("import --db " + (dir / "s.gpkg") + " --kind orgs " + (dir / "bad.csv"), dir);
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.err.find("bad.csv: line 2: employees 'x' is not an integer"), std::string::npos) << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;

    auto level = run("coverage --db " + (dir / "s.gpkg") + " --level county", dir);
    EXPECT_NE(level.status, 0);
    auto kind = run("import --db " + (dir / "s.gpkg") + " --kind people x.csv", dir);
    EXPECT_NE(kind.status, 0);
}

TEST(Cli, ExportShapefileAndErrors) {
    TempDir dir;
    ASSERT_EQ(run("demo --out " + (dir / "d.gpkg") + " --scale 0.05", dir).status, 0);
    auto ok = run("export --db " + (dir / "d.gpkg") + " --layer areas --level district --out " + (dir / "a.zip"), dir);
    ASSERT_EQ(ok.status, 0) << ok.err;
    EXPECT_NE(ok.out.find("exported 7 features"), std::string::npos) << ok.out;
    EXPECT_TRUE(std::filesystem::exists(dir / "a.zip"));
    auto where =
        run("export --db " + (dir / "d.gpkg") + " --layer orgs --where \"nonsense ===\" --out " + (dir / "b.zip"), dir);
    EXPECT_NE(where.status, 0);
    EXPECT_NE(where.err.find("bad where"), std::string::npos) << where.err;
    auto srs =
        run("export --db " + (dir / "d.gpkg") + " --layer orgs --srs EPSG:123456789 --out " + (dir / "c.zip"), dir);
    EXPECT_NE(srs.status, 0);
    EXPECT_NE(srs.err.find("unknown CRS"), std::string::npos) << srs.err;
}

TEST(Cli, AdjacencyAndPlan) {
    TempDir dir;
    auto adj =
        run("adjacency " + std::string(COVERMAP_DATA_DIR) + "/tieling_counties.geojson --out " + (dir / "e.csv"), dir);
    ASSERT_EQ(adj.status, 0) << adj.err;
    auto last = adj.out.substr(adj.out.rfind('{'));
    auto j = nlohmann::json::parse(last);
    EXPECT_EQ(j["areas"], 7);
    EXPECT_EQ(j["islands"], 0);
    EXPECT_EQ(j["components"], 1);
    EXPECT_TRUE(j.contains("read_ms") && j.contains("build_ms"));
    std::ifstream csv(dir / "e.csv");
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line, "a,b");
    int rows = 0;
    while (std::getline(csv, line)) {
        long a = std::stol(line.substr(0, line.find(','))), b = std::stol(line.substr(line.find(',') + 1));
        EXPECT_LT(a, b);
        ++rows;
    }
    EXPECT_EQ(rows, j["links"].get<int>());
    auto bad = run("adjacency " + (dir / "missing.shp") + " --out " + (dir / "x.csv"), dir);
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.err.find("missing.shp"), std::string::npos);

    ASSERT_EQ(run("demo --out " + (dir / "d.gpkg") + " --scale 0.2", dir).status, 0);
    auto plan = run("plan --db " + (dir / "d.gpkg") + " --cost distance --out " + (dir / "plan.json"), dir);
    ASSERT_EQ(plan.status, 0) << plan.err;
    std::ifstream in(dir / "plan.json");
    auto p = nlohmann::json::parse(in);
    for (const char* key : {"clusters", "hotspots", "proposals", "flags"}) EXPECT_TRUE(p.contains(key)) << key;
    EXPECT_FALSE(p["proposals"].empty());
    for (const auto& pr : p["proposals"]) {
        EXPECT_TRUE(pr.contains("id") && pr.contains("type") && pr.contains("orgs"));
        if (pr["type"] == "instructor") {
            EXPECT_TRUE(pr.contains("instructor_id") && pr.contains("cost_m"));
        }
        if (pr["type"] == "affiliate") {
            EXPECT_TRUE(pr.contains("area"));
        }
    }
}

TEST(Cli, LocateContract) {
    TempDir dir;
    { std::ofstream(dir / "p.csv") << "id,x,y,demand\na,0,0,1\nb,1,0,1\nc,10,0,1\nd,11,0,1\n"; }
    auto r = run("locate --points " + (dir / "p.csv") + " --p 2 --out " + (dir / "r.json"), dir);
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(dir / "r.json");
    auto j = nlohmann::json::parse(in);
    EXPECT_DOUBLE_EQ(j["cost"].get<double>(), 2.0);
    EXPECT_EQ(j["medians"].size(), 2u);
    EXPECT_EQ(j["assignment"].size(), 4u);
    EXPECT_EQ(j["assignment"]["a"], j["assignment"]["b"]);
    EXPECT_NE(j["assignment"]["a"], j["assignment"]["c"]);
    auto cap = run("locate --points " + (dir / "p.csv") + " --p 2 --capacity 1 --out " + (dir / "r2.json"), dir);
    EXPECT_NE(cap.status, 0);
    EXPECT_NE(cap.err.find("exceeds p"), std::string::npos) << cap.err;
    auto both = run("locate --points " + (dir / "p.csv") + " --costs x.csv --p 2 --out " + (dir / "r3.json"), dir);
    EXPECT_NE(both.status, 0);
    auto pmed = run(
        "locate --costs " + std::string(COVERMAP_TEST_DATA) + "/orlib/pmed1_costs.csv --p 5 --out " + (dir / "pm.json"),
        dir);
    ASSERT_EQ(pmed.status, 0) << pmed.err;
    std::ifstream pin(dir / "pm.json");
    EXPECT_DOUBLE_EQ(nlohmann::json::parse(pin)["cost"].get<double>(), 5819);
}

// Issue #11: next month's extract refreshes the store and prints what changed, street by
// street, ending with one line of JSON; an import killed half-way changes nothing.
TEST(Cli, MonthlyRefreshPrintsItsDiffAndAKilledImportChangesNothing) {
    TempDir dir;
    std::string db = dir / "r.gpkg";
    ASSERT_EQ(run("demo --out " + db + " --scale 2", dir).status, 0);
    ASSERT_EQ(run("export --db " + db + " --layer orgs --format csv --out " + (dir / "all.csv"), dir).status, 0);
    // The export's CSV, as next month's extract: one organization's employees changed.
    std::ifstream in(dir / "all.csv");
    std::string header, line, csv;
    std::getline(in, header);
    csv = header + "\n";
    int n = 0;
    while (std::getline(in, line)) {
        if (++n == 1) {
            // employees is the 6th exported column after X,Y (AS_XY puts them first).
            std::vector<std::string> cells;
            std::stringstream ss(line);
            for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
            auto h = std::stringstream(header);
            int col = 0, employees = -1;
            for (std::string c; std::getline(h, c, ','); ++col)
                if (c == "employees") employees = col;
            ASSERT_GE(employees, 0) << header;
            cells[static_cast<std::size_t>(employees)] = "999";
            line.clear();
            for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
        }
        csv += line + "\n";
    }
    std::ofstream(dir / "next.csv") << csv;
    auto dry = run("import --db " + db + " --kind orgs --dry-run " + (dir / "next.csv"), dir);
    ASSERT_EQ(dry.status, 0) << dry.err;
    auto body = dry.out.substr(0, dry.out.find_last_not_of('\n') + 1);
    auto j = nlohmann::json::parse(body.substr(body.rfind('\n') + 1));  // the last line
    EXPECT_EQ(j["updated"], 1);
    EXPECT_EQ(j["added"], 0);
    EXPECT_EQ(j["written"], false);
    EXPECT_NE(dry.out.find("updated 变更"), std::string::npos) << dry.out;
    EXPECT_NE(dry.out.find("total 合计"), std::string::npos) << dry.out;
    // A big import killed half-way: the store is as it was (one transaction), and sound.
    auto fingerprint = [&] {
        return run("export --db " + db + " --layer orgs --format csv --out " + (dir / "fp.csv"), dir).status == 0
                   ? std::string(std::istreambuf_iterator<char>(*std::make_unique<std::ifstream>(dir / "fp.csv")), {})
                   : std::string();
    };
    auto before = fingerprint();
    ASSERT_FALSE(before.empty());
    for (int delay_ms : {150, 400, 800}) {
        pid_t pid = fork();
        if (pid == 0) {
            int devnull = ::open("/dev/null", O_WRONLY);
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
            std::string next = dir / "next.csv";
            execl(COVERMAP_BIN, COVERMAP_BIN, "import", "--db", db.c_str(), "--kind", "orgs", "--missing", "deregister",
                  next.c_str(), nullptr);
            _exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        auto now = fingerprint();
        // Either nothing happened, or (if it finished first) the whole change: never half.
        bool whole = now != before && now.find(",\"999\",") != std::string::npos;
        EXPECT_TRUE(now == before || whole) << "killed after " << delay_ms << " ms";
        if (whole) before = now;
    }
    auto check = run("coverage --db " + db + " --level district --format json", dir);
    EXPECT_EQ(check.status, 0) << check.err;
}

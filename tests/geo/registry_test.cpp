// Issue #11: registry data as a district has it: text keys and credit codes, Excel sheets with
// Chinese headings under a title row, Baidu coordinates, addresses without coordinates, and the
// monthly refresh as an upsert that keeps every assignment.
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "covermap/geo/credit_code.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/export.hpp"
#include "covermap/geo/gcj02.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/import.hpp"
#include "covermap/geo/planner.hpp"
#include "covermap/geo/store.hpp"
#include "support.hpp"

using namespace covermap::geo;
using covermap::test::fingerprint;
using covermap::test::square;
using covermap::test::TempDir;

namespace {

// GB 32100-2015's check character, written apart from covermap's: weights are 3^i mod 31.
char independent_check(const std::string& first17) {
    const std::string set = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    long sum = 0, w = 1;
    for (char c : first17) {
        sum += static_cast<long>(set.find(c)) * w;
        w = w * 3 % 31;
    }
    return set[static_cast<std::size_t>((31 - sum % 31) % 31)];
}

std::string valid_code(std::mt19937& rng, const std::string& prefix = "91211202") {
    const std::string set = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    std::string body = prefix;
    while (body.size() < 17) body += set[rng() % set.size()];
    return body + independent_check(body);
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A store with a district, a street, a community and its grid cell, named as in an address.
Store named_store(const TempDir& dir) {
    auto store = Store::open(dir / "s.gpkg");
    Dataset d;
    d.areas.push_back({"211202", "银州区", Level::district, "", square(123.80, 42.20, 0.2)});
    d.areas.push_back({"211202001", "红旗街道", Level::street, "211202", square(123.80, 42.20, 0.1)});
    d.areas.push_back({"211202001001", "幸福社区", Level::community, "211202001", square(123.82, 42.22, 0.02)});
    d.areas.push_back({"211202001001001", "幸福社区第1网格", Level::grid, "211202001001", square(123.80, 42.20, 0.2)});
    store.replace(d);
    return store;
}

}  // namespace

TEST(Registry, CreditCodesAreCheckedAsGb32100Says) {
    std::mt19937 rng(11);
    for (int i = 0; i < 500; ++i) {
        auto code = valid_code(rng);
        EXPECT_EQ(credit_code_problem(code), std::nullopt) << code;
        std::string wrong = code;
        wrong[17] = wrong[17] == '0' ? '1' : '0';
        EXPECT_NE(credit_code_problem(wrong), std::nullopt) << wrong;
    }
    EXPECT_EQ(credit_code_problem("91350100M000100Y43"), std::nullopt) << "the standard's published example";
    EXPECT_NE(credit_code_problem("91350100M000100Y4"), std::nullopt) << "17 characters";
    EXPECT_NE(credit_code_problem("91350100M0001I0Y43"), std::nullopt) << "I is not in the set";
    std::string no_province =
        "9100"
        "0000M000100Y4";
    EXPECT_NE(credit_code_problem(no_province + independent_check(no_province)), std::nullopt)
        << "characters 3-8 must name a province";
}

TEST(Registry, AnExcelSheetWithATitleRowAndChineseHeadings) {
    TempDir dir;
    auto store = named_store(dir);
    std::mt19937 rng(5);
    auto c1 = valid_code(rng), c2 = valid_code(rng), c3 = valid_code(rng, "51211202");
    std::string bad_code = c1.substr(0, 17) + (c1[17] == '0' ? '1' : '0');
    // Written by GDAL's XLSX driver: its first row (the field names) is the sheet's title row.
    std::string path = dir / "台账.xlsx";
    {
        GDALAllRegister();
        auto* drv = GetGDALDriverManager()->GetDriverByName("XLSX");
        GDALDataset* ds = drv->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
        OGRLayer* l = ds->CreateLayer("十一月", nullptr, wkbNone, nullptr);
        std::vector<std::string> cols = {
            "银州区两新组织台账", "2026年11月", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11"};
        for (const auto& c : cols) {
            OGRFieldDefn f(c.c_str(), OFTString);
            l->CreateField(&f);
        }
        std::vector<std::vector<std::string>> rows = {
            {"统一社会信用代码", "企业名称", "从业人员", "党员人数", "登记状态", "经度", "纬度", "住所",
             "未建党组织原因", "负责人", "备注"},
            {c1, "铁岭宏达机械有限公司", "120", "4", "存续（在营、开业、在册）", "123.85", "42.25", "", "", "王强", ""},
            {c2, "铁岭天成建筑工程有限公司", "55", "0", "吊销，未注销", "123.86", "42.26", "", "党员流失", "李华",
             "复查"},
            {c3, "银州区书法家协会", "8", "1", "在业", "123.87", "42.27", "", "", "", ""},
            {bad_code, "铁岭某某物流有限公司", "很多", "0", "存续", "123.88", "42.28", "", "", "", ""},
        };
        for (const auto& r : rows) {
            OGRFeature* f = OGRFeature::CreateFeature(l->GetLayerDefn());
            for (std::size_t i = 0; i < r.size(); ++i) f->SetField(static_cast<int>(i), r[i].c_str());
            EXPECT_EQ(l->CreateFeature(f), OGRERR_NONE);
            OGRFeature::DestroyFeature(f);
        }
        GDALClose(ds);
    }
    ImportParams p;
    p.kind = ImportKind::orgs;
    p.source = path;
    p.layer = "十一月";
    // All or nothing: the bad row names its line (the sheet's row 6) and column.
    try {
        import_into(store, p);
        FAIL() << "a bad row was accepted";
    } catch (const format_error& e) {
        EXPECT_NE(std::string(e.what()).find("line 6"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("employees '很多'"), std::string::npos) << e.what();
    }
    EXPECT_EQ(store.count("orgs"), 0);
    // --skip-bad: the good rows go in, the bad one is listed and written out to be fixed.
    p.skip_bad = true;
    p.rejects_out = dir / "rejects.csv";
    auto report = import_into(store, p);
    ASSERT_EQ(report.rejected.size(), 1u);
    EXPECT_EQ(report.rejected[0].where, "line 6");
    EXPECT_EQ(report.rejected[0].column, "从业人员");
    std::ifstream rej(dir / "rejects.csv");
    std::string all((std::istreambuf_iterator<char>(rej)), {});
    EXPECT_NE(all.find("铁岭某某物流有限公司"), std::string::npos);
    EXPECT_NE(all.find("统一社会信用代码"), std::string::npos) << "the original headings";
    EXPECT_EQ(report.total.added, 3u);
    EXPECT_EQ(report.unknown_columns, std::vector<std::string>{"备注"});
    auto d = store.load();
    ASSERT_EQ(d.orgs.size(), 3u);
    std::map<std::string, Organization> by_id;
    for (const auto& o : d.orgs) by_id[o.id] = o;
    ASSERT_TRUE(by_id.count(c1)) << "without an id column the credit code is the id";
    EXPECT_EQ(by_id[c1].kind, OrgKind::enterprise) << "9…: market regulation";
    EXPECT_EQ(by_id[c3].kind, OrgKind::social) << "5…: civil affairs";
    EXPECT_EQ(by_id[c1].status, OrgStatus::operating);
    EXPECT_EQ(by_id[c2].status, OrgStatus::deregistered) << "吊销，未注销";
    EXPECT_EQ(by_id[c3].status, OrgStatus::operating) << "在业";
    // A heading mapped to a field that does not exist is refused, not ignored.
    ImportParams wrong = p;
    wrong.map = {{"备注", "remarks"}};
    EXPECT_THROW(import_into(store, wrong), invalid_argument);
    EXPECT_EQ(by_id[c2].ledger().no_branch_reason, "党员流失");
    EXPECT_EQ(by_id[c1].ledger().person_in_charge, "王强");
    EXPECT_EQ(by_id[c1].employees, 120);
    // The ledger goes out with the exports too.
    ExportParams e;
    e.layer = ExportLayer::orgs;
    e.format = ExportFormat::csv;
    e.encoding = "UTF-8";
    e.out = dir / "ledger.csv";
    export_layer(store, e);
    std::ifstream out(e.out);
    std::string text((std::istreambuf_iterator<char>(out)), {});
    EXPECT_NE(text.find("no_br_rsn"), std::string::npos);
    EXPECT_NE(text.find("党员流失"), std::string::npos);
    EXPECT_NE(text.find("王强"), std::string::npos);
}

TEST(Registry, InvalidAndDuplicateCreditCodesGoInFlagged) {
    TempDir dir;
    auto store = named_store(dir);
    std::mt19937 rng(9);
    auto good = valid_code(rng);
    std::string bad = good.substr(0, 17) + (good[17] == '0' ? '1' : '0');
    write(dir / "c.csv",
          "id,name,kind,credit_code,employees,party_members,status,lon,lat\n"
          "A1,甲,enterprise," +
              bad +
              ",1,0,operating,123.85,42.25\n"
              "A2,乙,enterprise," +
              good +
              ",1,0,operating,123.85,42.25\n"
              "A3,丙,enterprise," +
              good + ",1,0,operating,123.85,42.25\n");
    ImportParams p;
    p.kind = ImportKind::orgs;
    p.source = dir / "c.csv";
    auto report = import_into(store, p);
    EXPECT_EQ(report.total.added, 3u);
    ASSERT_EQ(report.invalid_credit_codes.size(), 1u);
    EXPECT_EQ(report.invalid_credit_codes[0].rfind("A1: ", 0), 0u);
    ASSERT_EQ(report.duplicate_credit_codes.size(), 1u);
    EXPECT_NE(report.duplicate_credit_codes[0].find("A2 A3"), std::string::npos);
    // …and among the plan's flags.
    auto plan = make_plan(store.load(), PlanParams{});
    int invalid = 0, duplicate = 0;
    for (const auto& f : plan.flags) {
        invalid += f.type == "invalid_credit_code" && f.ids == std::vector<std::string>{"A1"};
        duplicate += f.type == "duplicate_credit_code";
    }
    EXPECT_EQ(invalid, 1);
    EXPECT_EQ(duplicate, 1);
}

TEST(Registry, BaiduCoordinatesComeBackToCgcs2000) {
    TempDir dir;
    auto store = named_store(dir);
    Point truth{123.8432, 42.2871};
    // Forward: WGS84 -> GCJ-02 -> BD-09, Baidu's published formula, written here apart.
    Point g = wgs84_to_gcj02(truth);
    double k = M_PI * 3000.0 / 180.0;
    double z = std::sqrt(g.x * g.x + g.y * g.y) + 0.00002 * std::sin(g.y * k);
    double t = std::atan2(g.y, g.x) + 0.000003 * std::cos(g.x * k);
    Point bd{z * std::cos(t) + 0.0065, z * std::sin(t) + 0.006};
    std::ostringstream csv;
    csv.precision(12);
    csv << "id,name,kind,employees,party_members,status,lon,lat\nB1,百度点,enterprise,1,0,operating," << bd.x << ","
        << bd.y << "\n";
    write(dir / "bd.csv", csv.str());
    ImportParams p;
    p.kind = ImportKind::orgs;
    p.source = dir / "bd.csv";
    p.bd09 = true;
    import_into(store, p);
    auto o = store.load().orgs.at(0);
    EXPECT_LT(haversine_m(o.location, truth), 2.0) << o.location.x << " " << o.location.y;
    EXPECT_GT(haversine_m(bd, truth), 500.0) << "BD-09 is far from the truth unconverted";
}

TEST(Registry, AddressOnlyRowsArePlacedByTheNamesOfAreas) {
    TempDir dir;
    auto store = named_store(dir);
    write(dir / "addr.csv",
          "id,name,kind,employees,party_members,status,住所\n"
          "D1,社区里的公司,enterprise,5,0,operating,铁岭市银州区红旗街道幸福社区3号楼\n"
          "D2,街道里的公司,enterprise,5,0,operating,银州区红旗街道建设路8号\n"
          "D3,区里的公司,enterprise,5,0,operating,辽宁省铁岭市银州区某路\n"
          "D4,无处可放,enterprise,5,0,operating,外省某市某路\n");
    ImportParams p;
    p.kind = ImportKind::orgs;
    p.source = dir / "addr.csv";
    EXPECT_THROW(import_into(store, p), format_error) << "all or nothing: D4 matches no area";
    p.skip_bad = true;
    auto report = import_into(store, p);
    ASSERT_EQ(report.rejected.size(), 1u);
    EXPECT_NE(report.rejected[0].reason.find("外省某市某路"), std::string::npos);
    std::map<std::string, Organization> by_id;
    for (const auto& o : store.load().orgs) by_id[o.id] = o;
    ASSERT_EQ(by_id.size(), 3u);
    EXPECT_EQ(by_id["D1"].ledger().location_precision, "community");
    const BBox community{123.82, 42.22, 123.84, 42.24}, street{123.80, 42.20, 123.90, 42.30};
    EXPECT_TRUE(community.contains(by_id["D1"].location)) << "inside 幸福社区";
    EXPECT_EQ(by_id["D2"].ledger().location_precision, "street");
    EXPECT_TRUE(street.contains(by_id["D2"].location)) << "inside 红旗街道";
    EXPECT_EQ(by_id["D3"].ledger().location_precision, "district");
}

TEST(Registry, TheMonthlyRefreshIsAnUpsertThatKeepsAssignments) {
    TempDir dir;
    const auto& demo = covermap::test::demo_dataset(0.05, 3);
    auto store = Store::open(dir / "m.gpkg");
    store.replace(demo);
    // This month's extract: every organization as the registry lists it…
    auto csv_of = [](const std::vector<Organization>& orgs) {
        std::ostringstream s;
        s.precision(15);
        s << "id,name,kind,credit_code,industry,employees,party_members,status,above_scale,lon,lat\n";
        for (const auto& o : orgs)
            s << o.id << "," << o.name << "," << to_string(o.kind) << "," << o.credit_code << "," << o.industry << ","
              << o.employees << "," << o.party_members << "," << to_string(o.status) << "," << o.above_scale << ","
              << o.location.x << "," << o.location.y << "\n";
        return s.str();
    };
    std::vector<Organization> next = demo.orgs;
    // …with three changed, four gone (closed), two new.
    std::vector<Id> changed, gone;
    for (std::size_t i = 0; i < next.size() && changed.size() < 3; ++i)
        if (next[i].instructor_id && next[i].operating()) {
            next[i].employees += 7;
            changed.push_back(next[i].id);
        }
    for (auto it = next.end(); gone.size() < 4;) {
        --it;
        if (!it->operating() || it->instructor_id == std::nullopt) continue;
        if (std::find(changed.begin(), changed.end(), it->id) != changed.end()) continue;
        gone.push_back(it->id);
        it = next.erase(it);
    }
    Organization fresh = next.front();
    fresh.id = "NEW-1";
    fresh.name = "新登记有限公司";
    fresh.instructor_id.reset();
    fresh.branch_id.reset();
    next.push_back(fresh);
    fresh.id = "NEW-2";
    next.push_back(fresh);
    write(dir / "m.csv", csv_of(next));
    ImportParams p;
    p.kind = ImportKind::orgs;
    p.source = dir / "m.csv";
    p.missing_deregister = true;
    // A dry run reports the same and writes nothing.
    p.dry_run = true;
    auto before = fingerprint(store.load());
    auto dry = import_into(store, p, "月度更新");
    EXPECT_FALSE(dry.written);
    EXPECT_EQ(fingerprint(store.load()), before);
    p.dry_run = false;
    auto report = import_into(store, p, "月度更新");
    EXPECT_TRUE(report.written);
    for (auto* r : {&dry, &report}) {
        EXPECT_EQ(r->total.added, 2u);
        EXPECT_EQ(r->total.updated, 3u);
        EXPECT_EQ(r->total.deregistered, 4u);
        EXPECT_EQ(r->total.unchanged, demo.orgs.size() - 3 - 4);
        EXPECT_FALSE(r->by_street.empty());
    }
    auto after = store.load();
    std::map<std::string, Organization> was, now;
    for (const auto& o : demo.orgs) was[o.id] = o;
    for (const auto& o : after.orgs) now[o.id] = o;
    EXPECT_EQ(now.size(), demo.orgs.size() + 2) << "nothing deleted";
    for (const auto& id : changed) {
        EXPECT_EQ(now[id].employees, was[id].employees + 7);
        EXPECT_EQ(now[id].instructor_id, was[id].instructor_id) << "the assignment is kept";
        EXPECT_EQ(now[id].version, was[id].version + 1);
    }
    for (const auto& id : gone) {
        EXPECT_EQ(now[id].status, OrgStatus::deregistered);
        EXPECT_EQ(now[id].instructor_id, was[id].instructor_id) << "kept, for the record";
    }
    for (const auto& [id, o] : was)
        if (std::find(changed.begin(), changed.end(), id) == changed.end() &&
            std::find(gone.begin(), gone.end(), id) == gone.end()) {
            EXPECT_EQ(now[id].version, o.version) << id << " untouched";
            EXPECT_EQ(now[id].branch_id, o.branch_id);
        }
    // The audit log has the refresh and each change, by who made it.
    int updates = 0, deregs = 0, summaries = 0;
    for (const auto& a : store.audit()) {
        if (a.token_name != "月度更新") continue;
        updates += a.action == "import_update";
        deregs += a.action == "import_deregister";
        summaries += a.action == "import";
    }
    EXPECT_EQ(updates, 3);
    EXPECT_EQ(deregs, 4);
    EXPECT_EQ(summaries, 1);
    // The same extract again: nothing changes.
    auto again = import_into(store, p, "月度更新");
    EXPECT_EQ(again.total.updated + again.total.added + again.total.deregistered, 0u);
}

// Exports to Excel keep codes as text, read back by an independent reader (openpyxl).
TEST(Registry, ExcelExportKeepsCodesAsText) {
    TempDir dir;
    const auto& demo = covermap::test::demo_dataset(0.02, 3);
    auto store = Store::open(dir / "x.gpkg");
    store.replace(demo);
    ExportParams p;
    p.layer = ExportLayer::orgs;
    p.format = ExportFormat::xlsx;
    p.out = dir / "orgs.xlsx";
    auto r = export_layer(store, p);
    EXPECT_EQ(r.features, demo.orgs.size());
    std::string script = dir / "read.py";
    write(script,
          "import openpyxl, json, sys\n"
          "ws = openpyxl.load_workbook(sys.argv[1]).active\n"
          "rows = list(ws.iter_rows(values_only=True))\n"
          "h = rows[0]\n"
          "print(json.dumps([{h[i]: (type(v).__name__, v) for i, v in enumerate(r)} for r in rows[1:]]))\n");
    auto rows = nlohmann::json::parse(covermap::test::capture("/usr/bin/python3 " + script + " " + p.out));
    ASSERT_EQ(rows.size(), demo.orgs.size());
    std::map<std::string, const Organization*> by_id;
    for (const auto& o : demo.orgs) by_id[o.id] = &o;
    for (const auto& row : rows) {
        const auto& o = *by_id.at(row["组织编号"][1].get<std::string>());
        EXPECT_EQ(row["统一社会信用代码"][0], "str");
        EXPECT_EQ(row["统一社会信用代码"][1], o.credit_code);
        if (!row["网格编码"][1].is_null()) {
            EXPECT_EQ(row["网格编码"][0], "str") << "a 15-digit code stays text";
        }
        EXPECT_EQ(row["从业人员数"][0], "int");
        EXPECT_NEAR(row["经度"][1].get<double>(), o.location.x, 1e-9);
        // Headings and coded values in Chinese: a person opens this file.
        for (const auto& [heading, value] : row.items()) {
            EXPECT_TRUE(std::none_of(heading.begin(), heading.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
                << heading;
        }
        EXPECT_EQ(row["类型"][1], std::string(chinese_name(o.kind)));
        EXPECT_EQ(row["经营状态"][1], std::string(chinese_name(o.status)));
    }
}

// What a person opens imports back unchanged: the Excel CSV and the xlsx, Chinese headings and
// values, the formula guard's quote and ="…" wrappers read back as the plain text.
TEST(Registry, FilesForPeopleImportBackUnchanged) {
    for (auto format : {ExportFormat::csv, ExportFormat::xlsx}) {
        TempDir dir;
        const auto& demo = covermap::test::demo_dataset(0.02, 3);
        auto store = Store::open(dir / "x.gpkg");
        store.replace(demo);
        auto before = store.load();
        ExportParams p;
        p.layer = ExportLayer::orgs;
        p.format = format;
        p.excel = format == ExportFormat::csv;
        p.out = dir / (format == ExportFormat::csv ? "orgs.csv" : "orgs.xlsx");
        export_layer(store, p);
        ImportParams in;
        in.kind = ImportKind::orgs;
        in.source = p.out;
        auto report = import_into(store, in);
        EXPECT_TRUE(report.unknown_columns.size() < 12) << "most headings are read";
        EXPECT_EQ(report.total.updated, 0u) << (format == ExportFormat::csv ? "csv" : "xlsx");
        EXPECT_EQ(report.total.added, 0u);
        EXPECT_EQ(report.total.deregistered, 0u);
        auto after = store.load();
        ASSERT_EQ(after.orgs.size(), before.orgs.size());
        for (std::size_t i = 0; i < after.orgs.size(); ++i) EXPECT_EQ(after.orgs[i].version, before.orgs[i].version) << after.orgs[i].id;
    }
}

// A market-regulation extract has no party members and lists enterprises only: refreshing
// from it keeps the members the survey found, and deregisters no social organization.
TEST(Registry, AnExtractOnlySpeaksForItsColumnsAndItsKinds) {
    TempDir dir;
    const auto& demo = covermap::test::demo_dataset(0.05, 3);
    auto store = Store::open(dir / "k.gpkg");
    store.replace(demo);
    std::ostringstream s;
    s.precision(15);
    s << "编号,企业名称,统一社会信用代码,从业人员,登记状态,经度,纬度\n";
    std::size_t enterprises = 0;
    for (const auto& o : demo.orgs) {
        if (o.kind != OrgKind::enterprise) continue;
        ++enterprises;
        s << o.id << "," << o.name << "," << o.credit_code << "," << o.employees << ","
          << (o.operating()                      ? "存续"
              : o.status == OrgStatus::suspended ? "歇业"
                                                 : "注销")
          << "," << o.location.x << "," << o.location.y << "\n";
    }
    write(dir / "e.csv", s.str());
    ImportParams p;
    p.kind = ImportKind::orgs;
    p.source = dir / "e.csv";
    p.missing_deregister = true;
    auto report = import_into(store, p);
    EXPECT_EQ(report.total.unchanged, enterprises) << "no column, no change: members and above_scale stay";
    EXPECT_EQ(report.total.updated, 0u);
    EXPECT_EQ(report.total.deregistered, 0u) << "social organizations are not this extract's to deregister";
    EXPECT_EQ(fingerprint(store.load()), fingerprint(demo));
}

// A CSV for spreadsheet programs keeps long codes text (="…"), and imports back unchanged.
TEST(Registry, ExcelSafeCsvKeepsCodesAndImportsBack) {
    TempDir dir;
    const auto& demo = covermap::test::demo_dataset(0.02, 3);
    auto store = Store::open(dir / "c.gpkg");
    store.replace(demo);
    ExportParams p;
    p.layer = ExportLayer::orgs;
    p.format = ExportFormat::csv;
    p.encoding = "UTF-8";
    p.excel = true;
    p.out = dir / "excel.csv";
    export_layer(store, p);
    std::ifstream in(p.out);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("\"=\"\"2112"), std::string::npos) << "a 15-digit grid code as a text formula";
    EXPECT_EQ(text.find(",2112"), std::string::npos) << "no bare long code left";
    ImportParams ip;
    ip.kind = ImportKind::orgs;
    ip.source = p.out;
    auto report = import_into(store, ip);
    EXPECT_EQ(report.total.unchanged, demo.orgs.size());
    EXPECT_EQ(report.total.updated + report.total.added, 0u);
}

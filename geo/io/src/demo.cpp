#include "covermap/geo/demo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <unordered_map>

#include "covermap/geo/clock.hpp"
#include "covermap/geo/credit_code.hpp"
#include "covermap/geo/error.hpp"
#include "covermap/geo/figures.hpp"
#include "covermap/geo/geometry.hpp"
#include "covermap/geo/spatial_index.hpp"
#include "detail/geos.hpp"
#include "detail/ogr.hpp"

namespace covermap::geo {

using namespace detail;

namespace {

// The seven counties of Tieling (GB/T 2260) and how many streets (街道) and towns (镇/乡)
// each is split into: urban districts are mostly streets, rural counties mostly towns.
struct CountySpec {
    const char* name;
    const char* code;
    int streets;
    int towns;
};
constexpr CountySpec kCounties[] = {
    {"银州区", "211202", 8, 2},  {"清河区", "211204", 4, 4},   {"铁岭县", "211221", 2, 12}, {"西丰县", "211223", 1, 17},
    {"昌图县", "211224", 3, 30}, {"调兵山市", "211281", 5, 2}, {"开原市", "211282", 5, 17},
};

struct ParkSpec {
    const char* county;
    const char* suffix;  // 3-digit park number (400–599)
    const char* name;
    double dx, dy;  // offset from the county seat, degrees
    double radius;  // degrees
};
constexpr ParkSpec kParks[] = {
    {"211281", "401", "调兵山市工业园区", 0.035, -0.02, 0.025},
    {"211202", "401", "铁岭高新技术产业开发区", 0.03, 0.025, 0.022},
    {"211221", "401", "铁岭经济技术开发区", -0.04, 0.03, 0.03},
    {"211282", "401", "开原市科技园", 0.025, -0.03, 0.02},
    {"211224", "401", "昌图县工业园区", -0.03, -0.025, 0.025},
    {"211223", "401", "西丰县经济开发区", 0.02, 0.02, 0.02},
};

const std::vector<std::string> kStreetWords = {
    "红旗", "光荣", "新华", "和平", "胜利", "建设", "团结", "向阳", "东风", "民主", "铁西", "铜钟", "工人",
    "站前", "龙山", "银山", "南山", "北山", "东城", "西城", "兴华", "振兴", "文化", "人民", "永安", "长青",
    "广裕", "辽海", "凡河", "柴河", "清河", "新城", "老城", "城东", "城西", "城南", "城北", "兴隆", "福兴"};
const std::vector<std::string> kPlaceFirst = {"大", "小", "东", "西", "南", "北", "新", "老", "上", "下",
                                              "前", "后", "高", "双", "三", "黄", "白", "红", "青", "金",
                                              "马", "杨", "李", "王", "张", "刘", "赵", "孙", "于", "曲",
                                              "石", "柳", "榆", "柏", "鹿", "凤", "龙", "平", "太", "永"};
const std::vector<std::string> kPlaceSecond = {"家", "台", "岭", "河", "山", "沟", "堡", "屯", "甸", "营",
                                               "泉", "树", "城", "坎", "井", "峰", "桥", "庄", "园", "洼",
                                               "窝", "房", "岗", "阳", "安", "丰", "兴", "顺", "和", "林"};
const std::vector<std::string> kPlaceThird = {"子", "堡", "屯", "", "", "", "沟", "岭"};
const std::vector<std::string> kCommunityWords = {
    "幸福", "和谐", "康乐", "福民", "安居", "书香", "阳光", "翠湖", "锦绣", "金桥", "银河", "春晖", "光明",
    "新兴", "友谊", "育才", "铁东", "铁南", "兴业", "繁荣", "花园", "青年", "工农", "朝阳", "民主", "祥和",
    "学府", "滨河", "秀水", "碧水", "枫林", "紫薇", "丽景", "怡园", "荣华", "长安", "永乐", "同心"};
const std::vector<std::string> kBrand = {"宏达", "鑫源", "华泰", "恒信",   "盛世", "金鼎", "瑞丰", "兴业", "众诚",
                                         "博远", "天成", "辽北", "龙腾",   "聚鑫", "鼎盛", "富邦", "中兴", "嘉禾",
                                         "永盛", "汇通", "东方", "北方",   "银州", "清河", "昌盛", "安达", "正阳",
                                         "利民", "丰华", "德润", "新纪元", "广源", "福瑞", "泰和", "凯达", "明远"};

struct IndustrySpec {
    char letter;
    const char* word;
    double weight;       // ordinary enterprises
    double park_weight;  // enterprises in parks
};
constexpr IndustrySpec kEnterpriseIndustries[] = {
    {'C', "机械制造", 26, 55}, {'F', "商贸", 20, 4}, {'E', "建筑工程", 10, 3}, {'I', "信息技术", 6, 18},
    {'L', "商务服务", 8, 4},   {'M', "科技", 4, 10}, {'H', "餐饮", 8, 1},      {'G', "物流运输", 6, 3},
    {'K', "房地产开发", 4, 0}, {'A', "农业", 5, 0},  {'D', "能源", 2, 2},      {'O', "家政服务", 1, 0},
};
struct SocialSpec {
    char letter;
    const char* suffix;
    const char* code_prefix;  // 51 社会团体, 52 民办非企业单位
    double weight;
};
constexpr SocialSpec kSocialKinds[] = {
    {'S', "协会", "51", 30},         {'S', "商会", "51", 15},      {'P', "培训学校", "52", 20},
    {'Q', "养老服务中心", "52", 15}, {'R', "文化艺术团", "51", 8}, {'P', "幼儿园", "52", 12},
};

// Deterministic random numbers: std distributions are stable for one libstdc++.
class Random {
public:
    explicit Random(std::uint64_t seed) : gen_(seed) {}
    double uniform(double a = 0, double b = 1) { return std::uniform_real_distribution<double>(a, b)(gen_); }
    int integer(int a, int b) { return std::uniform_int_distribution<int>(a, b)(gen_); }
    double normal(double mean, double sd) { return std::normal_distribution<double>(mean, sd)(gen_); }
    bool chance(double p) { return uniform() < p; }
    template <class T>
    const T& pick(const std::vector<T>& v) {
        return v[static_cast<std::size_t>(integer(0, static_cast<int>(v.size()) - 1))];
    }
    template <class W>
    std::size_t weighted(const W& weights) {
        double total = 0;
        for (double w : weights) total += w;
        double r = uniform(0, total);
        std::size_t i = 0;
        for (double w : weights) {
            if (r < w) return i;
            r -= w;
            ++i;
        }
        return i - 1;
    }
    std::mt19937_64& engine() { return gen_; }

private:
    std::mt19937_64 gen_;
};

// Draws points uniformly inside a shape by rejection from its box (prepared geometry).
class PointSampler {
public:
    explicit PointSampler(const MultiPolygon& shape)
        : geom_(to_geos(shape)), prepared_(GEOSPrepare_r(geos(), geom_.get())), box_(bounds(shape)) {}

    bool covers(Point p) const {
        auto pt = to_geos(p);
        return GEOSPreparedCovers_r(geos(), prepared_.get(), pt.get()) == 1;
    }
    Point sample(Random& rng) const {
        for (int attempt = 0; attempt < 10000; ++attempt) {
            Point p{rng.uniform(box_.minx, box_.maxx), rng.uniform(box_.miny, box_.maxy)};
            if (covers(p)) return p;
        }
        return interior();
    }
    // Gaussian around centre, inside the shape; falls back to uniform.
    Point sample_near(Random& rng, Point centre, double sd) const {
        for (int attempt = 0; attempt < 200; ++attempt) {
            Point p{rng.normal(centre.x, sd * 1.35), rng.normal(centre.y, sd)};
            if (box_.contains(p) && covers(p)) return p;
        }
        return sample(rng);
    }
    Point interior() const {
        auto p = checked(GEOSPointOnSurface_r(geos(), geom_.get()), "point on surface");
        double x = 0, y = 0;
        GEOSGeomGetX_r(geos(), p.get(), &x);
        GEOSGeomGetY_r(geos(), p.get(), &y);
        return {x, y};
    }

private:
    GeomPtr geom_;
    PreparedPtr prepared_;
    BBox box_;
};

std::string three(int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03d", n);
    return buf;
}

std::string unique_name(std::set<std::string>& used, const std::function<std::string()>& make) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        auto s = make();
        if (used.insert(s).second) return s;
    }
    auto s = make() + std::to_string(used.size());
    used.insert(s);
    return s;
}

std::string place_name(Random& rng) { return rng.pick(kPlaceFirst) + rng.pick(kPlaceSecond) + rng.pick(kPlaceThird); }

struct County {
    const CountySpec* spec;
    MultiPolygon shape;
    Point seat;
};

std::vector<County> read_counties(const std::string& path) {
    ensure_gdal();
    DatasetPtr ds(GDALDataset::FromHandle(GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr)));
    if (!ds) throw format_error(path, "", "cannot open the county borders");
    OGRLayer* layer = ds->GetLayer(0);
    std::vector<County> out;
    for (const auto& spec : kCounties) {
        layer->ResetReading();
        bool found = false;
        while (auto f = own(layer->GetNextFeature())) {
            if (std::string(f->GetFieldAsString("name")) != spec.name) continue;
            County c{&spec, make_valid(from_ogr_polygons(f->GetGeometryRef())), {}};
            int cp = f->GetFieldIndex("cp");
            int count = 0;
            const double* xy = cp >= 0 ? f->GetFieldAsDoubleList(cp, &count) : nullptr;
            PointSampler sampler(c.shape);
            c.seat = (xy && count == 2 && sampler.covers({xy[0], xy[1]})) ? Point{xy[0], xy[1]} : sampler.interior();
            out.push_back(std::move(c));
            found = true;
            break;
        }
        if (!found) throw format_error(path, "", std::string("no feature named ") + spec.name);
    }
    return out;
}

// Splits a parent into n pieces with seeds drawn by draw(); drops empty pieces.
std::vector<MultiPolygon> split(const MultiPolygon& parent, int n, const std::function<Point()>& draw) {
    std::vector<Point> seeds;
    for (int i = 0; i < n; ++i) seeds.push_back(draw());
    auto pieces = voronoi_split(parent, seeds);
    pieces.erase(std::remove_if(pieces.begin(), pieces.end(), [](const MultiPolygon& m) { return m.empty(); }),
                 pieces.end());
    // Order pieces north-west to south-east so codes read like a map.
    std::sort(pieces.begin(), pieces.end(), [](const MultiPolygon& a, const MultiPolygon& b) {
        auto ba = bounds(a), bb = bounds(b);
        double ka = -std::round((ba.miny + ba.maxy) * 20) * 1000 + (ba.minx + ba.maxx);
        double kb = -std::round((bb.miny + bb.maxy) * 20) * 1000 + (bb.minx + bb.maxx);
        return ka < kb;
    });
    return pieces;
}

struct Cell {
    std::size_t area;  // index in Dataset::areas
    std::size_t community;
    std::size_t street;
    bool urban;
};

class Builder {
public:
    explicit Builder(const DemoParams& p) : params_(p), rng_(p.seed) {}

    Dataset build() {
        auto counties = read_counties(params_.borders);
        report("areas", 0);
        for (std::size_t i = 0; i < counties.size(); ++i) {
            add_county(counties[i]);
            report("areas", double(i + 1) / counties.size());
        }
        add_parks(counties);
        add_orgs();
        add_branches();
        add_instructors();
        add_dirty_rows(counties);
        return std::move(d_);
    }

private:
    void report(std::string_view stage, double f) {
        if (params_.progress) params_.progress(stage, f);
    }

    std::size_t add_area(std::string code, std::string name, Level level, std::string parent, MultiPolygon shape) {
        d_.areas.push_back(Area{std::move(code), std::move(name), level, std::move(parent), std::move(shape)});
        return d_.areas.size() - 1;
    }

    void add_county(const County& c) {
        add_area(c.spec->code, c.spec->name, Level::district, "", c.shape);
        PointSampler county(c.shape);
        std::set<std::string> used_names;
        // Street seeds crowd the county seat; town seeds spread over the county.
        std::vector<Point> seeds;
        std::vector<bool> is_street;
        for (int i = 0; i < c.spec->streets; ++i) {
            seeds.push_back(county.sample_near(rng_, c.seat, 0.018));
            is_street.push_back(true);
        }
        for (int i = 0; i < c.spec->towns; ++i) {
            seeds.push_back(county.sample(rng_));
            is_street.push_back(false);
        }
        auto pieces = voronoi_split(c.shape, seeds);
        int next_street = 1, next_town = 101;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            if (pieces[i].empty()) continue;
            bool urban = is_street[i];
            std::string code = c.spec->code + three(urban ? next_street++ : next_town++);
            std::string name = unique_name(used_names, [&] {
                return urban ? rng_.pick(kStreetWords) + "街道" : place_name(rng_) + (rng_.chance(0.85) ? "镇" : "乡");
            });
            auto street = add_area(code, name, Level::street, c.spec->code, pieces[i]);
            add_communities(street, urban);
        }
    }

    void add_communities(std::size_t street, bool urban) {
        const auto shape = d_.areas[street].shape;
        const auto street_code = d_.areas[street].code;
        PointSampler sampler(shape);
        int n = urban ? rng_.integer(8, 18) : rng_.integer(10, 24);
        auto pieces = split(shape, n, [&] { return sampler.sample(rng_); });
        std::set<std::string> used_names;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            std::string code = street_code + three(static_cast<int>(i) + 1);
            std::string name = unique_name(
                used_names, [&] { return urban ? rng_.pick(kCommunityWords) + "社区" : place_name(rng_) + "村"; });
            auto community = add_area(code, name, Level::community, street_code, pieces[i]);
            PointSampler cs(pieces[i]);
            int g = urban ? rng_.integer(5, 10) : rng_.integer(4, 8);
            auto grids = split(pieces[i], g, [&] { return cs.sample(rng_); });
            for (std::size_t k = 0; k < grids.size(); ++k) {
                auto cell = add_area(code + three(static_cast<int>(k) + 1),
                                     name + "第" + std::to_string(k + 1) + "网格", Level::grid, code, grids[k]);
                cells_.push_back(Cell{cell, community, street, urban});
            }
        }
    }

    void add_parks(const std::vector<County>& counties) {
        for (const auto& p : kParks) {
            auto c = std::find_if(counties.begin(), counties.end(),
                                  [&](const County& c) { return std::string(c.spec->code) == p.county; });
            // A park is a few overlapping discs near the seat, kept inside its county.
            Point centre{c->seat.x + p.dx, c->seat.y + p.dy};
            std::vector<MultiPolygon> discs;
            for (int k = 0; k < 3; ++k) {
                Point q{centre.x + rng_.uniform(-0.6, 0.6) * p.radius, centre.y + rng_.uniform(-0.4, 0.4) * p.radius};
                discs.push_back(disc_within(q, p.radius * rng_.uniform(0.55, 0.8), c->shape));
            }
            auto shape = union_all(discs);
            if (shape.empty()) continue;
            add_area(std::string(p.county) + p.suffix, p.name, Level::park, p.county, shape);
            parks_.push_back(d_.areas.size() - 1);
        }
    }

    // The county code's short name for enterprise names ("铁岭", "开原"…).
    std::string region_word(const std::string& code) {
        static const std::map<std::string, std::string> words = {
            {"211202", "铁岭"}, {"211204", "清河"},   {"211221", "铁岭"}, {"211223", "西丰"},
            {"211224", "昌图"}, {"211281", "调兵山"}, {"211282", "开原"}};
        auto it = words.find(code.substr(0, 6));
        return it == words.end() ? "铁岭" : it->second;
    }

    std::string credit_code(const std::string& prefix, const std::string& area_code) {
        static constexpr std::string_view charset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        std::string s = prefix + area_code.substr(0, 6);
        for (int i = 0; i < 9; ++i) s += charset[static_cast<std::size_t>(rng_.integer(0, i < 8 ? 9 : 30))];
        return s + credit_code_check(s);
    }

    void add_orgs() {
        std::size_t n_ent = static_cast<std::size_t>(std::llround(SeedFigures::enterprises * params_.scale));
        std::size_t n_soc = static_cast<std::size_t>(std::llround(SeedFigures::social * params_.scale));
        std::vector<double> ent_weight, soc_weight;
        for (const auto& c : cells_) {
            ent_weight.push_back(c.urban ? 6.0 : 1.0);
            soc_weight.push_back(c.urban ? 9.0 : 1.0);
        }
        std::discrete_distribution<std::size_t> ent_cell(ent_weight.begin(), ent_weight.end());
        std::discrete_distribution<std::size_t> soc_cell(soc_weight.begin(), soc_weight.end());
        std::vector<std::unique_ptr<PointSampler>> park_samplers;
        for (auto p : parks_) park_samplers.push_back(std::make_unique<PointSampler>(d_.areas[p].shape));

        std::vector<double> ent_industry_w, park_industry_w, social_w;
        for (const auto& s : kEnterpriseIndustries) {
            ent_industry_w.push_back(s.weight);
            park_industry_w.push_back(s.park_weight);
        }
        for (const auto& s : kSocialKinds) social_w.push_back(s.weight);

        std::size_t total = n_ent + n_soc;
        d_.orgs.reserve(total);
        for (std::size_t i = 0; i < total; ++i) {
            if (i % 4096 == 0) report("organizations", double(i) / total);
            Organization o;
            o.id = std::to_string(i + 1);
            o.kind = i < n_ent ? OrgKind::enterprise : OrgKind::social;
            bool in_park = o.kind == OrgKind::enterprise && !park_samplers.empty() && rng_.chance(0.22);
            std::string area_code;
            if (in_park) {
                std::size_t p = static_cast<std::size_t>(rng_.integer(0, static_cast<int>(parks_.size()) - 1));
                o.location = park_samplers[p]->sample(rng_);
                area_code = d_.areas[parks_[p]].code;
            } else {
                const Cell& cell =
                    cells_[o.kind == OrgKind::enterprise ? ent_cell(rng_.engine()) : soc_cell(rng_.engine())];
                o.location = cell_sampler(cell.area).sample(rng_);
                area_code = d_.areas[cell.area].code;
            }
            if (o.kind == OrgKind::enterprise) {
                const auto& ind = kEnterpriseIndustries[rng_.weighted(in_park ? park_industry_w : ent_industry_w)];
                o.industry = std::string(1, ind.letter);
                o.name = region_word(area_code) + rng_.pick(kBrand) + ind.word +
                         (rng_.chance(0.8) ? "有限公司" : "有限责任公司");
                o.employees = std::max(1, static_cast<int>(std::exp(rng_.normal(in_park ? 3.6 : 2.8, 1.0))));
                o.above_scale = o.employees >= 100 && rng_.chance(0.7);
                o.credit_code = credit_code("91", area_code);
            } else {
                const auto& kind = kSocialKinds[rng_.weighted(social_w)];
                o.industry = std::string(1, kind.letter);
                o.name = region_word(area_code) + rng_.pick(kBrand) + kind.suffix;
                o.employees = std::max(1, static_cast<int>(std::exp(rng_.normal(2.0, 0.8))));
                o.credit_code = credit_code(kind.code_prefix, area_code);
            }
            // About 1 % are suspended or deregistered: they stay in the register, outside every rate.
            double r = rng_.uniform();
            o.status = r < 0.006 ? OrgStatus::suspended : r < 0.01 ? OrgStatus::deregistered : OrgStatus::operating;
            d_.orgs.push_back(std::move(o));
        }
        report("organizations", 1);
    }

    const PointSampler& cell_sampler(std::size_t area) {
        auto it = samplers_.find(area);
        if (it == samplers_.end())
            it = samplers_.emplace(area, std::make_unique<PointSampler>(d_.areas[area].shape)).first;
        return *it->second;
    }

    std::int64_t new_branch(std::string name, BranchType type, const std::vector<std::size_t>& orgs) {
        Branch b;
        b.id = static_cast<std::int64_t>(d_.branches.size() + 1);
        b.name = std::move(name);
        b.type = type;
        for (auto i : orgs) {
            b.org_ids.push_back(d_.orgs[i].id);
            b.members += d_.orgs[i].party_members;
            d_.orgs[i].branch_id = b.id;
        }
        d_.branches.push_back(std::move(b));
        return d_.branches.back().id;
    }

    // Groups orgs (indexes, spatially sorted) into runs of near neighbours.
    // Position on a Hilbert curve over the region (2^16 cells a side): organizations close in
    // this order are close on the ground, so a run of them (one instructor's, one joint
    // branch's) stays compact. Latitude bands, the earlier order, joined the east end of one
    // band to the west end of the next (links of 50+ km).
    static std::uint64_t hilbert_key(Point p) {
        constexpr std::uint32_t n = 1u << 16;
        // Tieling and any Chinese district fit in this box; clamp the rest.
        auto cell = [&](double v, double lo, double hi) {
            double t = std::clamp((v - lo) / (hi - lo), 0.0, 1.0 - 1e-12);
            return static_cast<std::uint32_t>(t * n);
        };
        std::uint32_t x = cell(p.x, 73, 136), y = cell(p.y, 3, 54);
        std::uint64_t d = 0;
        for (std::uint32_t s = n / 2; s > 0; s /= 2) {
            std::uint32_t rx = (x & s) ? 1 : 0, ry = (y & s) ? 1 : 0;
            d += static_cast<std::uint64_t>(s) * s * ((3 * rx) ^ ry);
            if (ry == 0) {  // rotate the quadrant
                if (rx == 1) {
                    x = s - 1 - (x & (s - 1)) + (x & ~(s - 1));
                    y = s - 1 - (y & (s - 1)) + (y & ~(s - 1));
                }
                std::swap(x, y);
            }
        }
        return d;
    }

    // Up to k unused organizations nearest to anchor, within limit metres, among the 64 either
    // side of it in pool (sorted by hilbert_key): near on the curve is a good first cut of near
    // on the ground, and a window keeps this linear at a million organizations.
    std::vector<std::size_t> nearest_unused(const std::vector<std::size_t>& pool, std::size_t anchor, std::size_t k,
                                            double limit, const std::vector<char>& used, std::ptrdiff_t window = 64) {
        const auto& key = keys();
        auto at = std::lower_bound(pool.begin(), pool.end(), key[anchor],
                                   [&](std::size_t x, std::uint64_t v) { return key[x] < v; });
        auto from = pool.begin() + std::max<std::ptrdiff_t>(0, (at - pool.begin()) - window);
        auto to = pool.begin() +
                  std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(pool.size()), (at - pool.begin()) + window);
        std::vector<std::pair<double, std::size_t>> near;
        for (auto it = from; it != to; ++it)
            if (*it != anchor && !used[*it])
                if (double dm = haversine_m(d_.orgs[anchor].location, d_.orgs[*it].location); dm <= limit)
                    near.emplace_back(dm, *it);
        std::sort(near.begin(), near.end());
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < near.size() && out.size() < k; ++i) out.push_back(near[i].second);
        return out;
    }

    // Keys computed once per organization (sorting and searching compare them many times).
    const std::vector<std::uint64_t>& keys() {
        if (keys_.size() != d_.orgs.size()) {
            keys_.resize(d_.orgs.size());
            for (std::size_t i = 0; i < d_.orgs.size(); ++i) keys_[i] = hilbert_key(d_.orgs[i].location);
        }
        return keys_;
    }

    void sort_spatially(std::vector<std::size_t>& idx) {
        const auto& k = keys();
        std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return k[a] < k[b]; });
    }

    // Branches per kind, calibrated on the seed: at the seed's size, enterprises get 448
    // standalone, 18 joint (3 orgs each) and 6 affiliated (2 each) branches: 472 branches
    // covering 514 enterprises; social organizations 71 + 15 + 11 = 97 covering 138.
    void add_branches_for(OrgKind kind, double coverage, int standalone_share, int joint_share, int affiliated_share) {
        std::vector<std::size_t> op;
        for (std::size_t i = 0; i < d_.orgs.size(); ++i)
            if (d_.orgs[i].kind == kind && d_.orgs[i].operating()) op.push_back(i);
        long long covered = std::llround(coverage * op.size());
        int per_seed = standalone_share + 3 * joint_share + 2 * affiliated_share;
        long long joint = std::llround(double(covered) * joint_share / per_seed);
        long long affiliated = std::llround(double(covered) * affiliated_share / per_seed);
        long long standalone = covered - 3 * joint - 2 * affiliated;

        // Larger organizations are likelier to have their own branch.
        std::vector<std::pair<double, std::size_t>> keyed;
        for (auto i : op) keyed.emplace_back(-std::sqrt(d_.orgs[i].employees) * rng_.uniform(0.2, 1.0), i);
        std::sort(keyed.begin(), keyed.end());
        std::vector<char> taken(d_.orgs.size(), 0);
        for (long long k = 0; k < standalone && k < static_cast<long long>(keyed.size()); ++k) {
            auto i = keyed[static_cast<std::size_t>(k)].second;
            auto& o = d_.orgs[i];
            o.party_members = std::min(o.employees + 3, 3 + static_cast<int>(std::exp(rng_.normal(1.6, 0.9))));
            new_branch(branch_name(BranchType::standalone, o.name, 1), BranchType::standalone, {i});
            taken[i] = 1;
        }
        // Joint and affiliated branches group small neighbours (runs of the spatial order).
        std::vector<std::size_t> rest;
        for (auto i : op)
            if (!taken[i]) rest.push_back(i);
        std::shuffle(rest.begin(), rest.end(), rng_.engine());
        std::vector<std::size_t> pool = rest;
        sort_spatially(pool);
        std::vector<char> used(d_.orgs.size(), 0);
        long long made = 0, target = joint + affiliated;
        // Groups of the nearest neighbours: first only those within 5 km of the anchor, then
        // 15 km, then any (so the calibrated counts still come out exact in sparse places).
        for (double limit : {5000.0, 15000.0, 1e12}) {
            for (auto anchor : rest) {
                if (made >= target) break;
                if (used[anchor]) continue;
                bool is_joint = made < joint;
                std::size_t want = is_joint ? 3 : 2;
                auto group = nearest_unused(pool, anchor, want - 1, limit, used);
                if (group.size() + 1 < want) continue;
                group.insert(group.begin(), anchor);
                for (auto i : group) used[i] = 1;
                ++made;
                int total_members = 0;
                for (auto i : group) {
                    d_.orgs[i].party_members = is_joint ? rng_.integer(1, 2) : rng_.integer(0, 2);
                    total_members += d_.orgs[i].party_members;
                }
                if (is_joint && total_members < 3) d_.orgs[group.front()].party_members += 3 - total_members;
                auto type = is_joint ? BranchType::joint : BranchType::affiliated;
                new_branch(branch_name(type, d_.orgs[group.front()].name, group.size()), type, group);
                for (auto i : group) taken[i] = 1;
            }
        }
        // Everyone else: mostly no members; some with 1–2 (joint candidates), a few with ≥ 3.
        for (auto i : op) {
            if (taken[i]) continue;
            double r = rng_.uniform();
            d_.orgs[i].party_members = r < 0.72 ? 0 : r < 0.92 ? rng_.integer(1, 2) : rng_.integer(3, 6);
        }
    }

    void add_branches() {
        report("branches", 0);
        add_branches_for(OrgKind::enterprise, SeedFigures::enterprise_org_coverage, 448, 18, 6);
        add_branches_for(OrgKind::social, SeedFigures::social_org_coverage, 71, 15, 11);
        report("branches", 1);
    }

    // Liaisons: 1,184 instructors cover 1,618 enterprises, 360 cover 387 social organizations
    // at the seed's size. Neighbouring organizations share an instructor.
    void add_instructors_for(OrgKind kind, double coverage, double seed_instructors, double seed_orgs) {
        std::vector<std::size_t> op;
        for (std::size_t i = 0; i < d_.orgs.size(); ++i)
            if (d_.orgs[i].kind == kind && d_.orgs[i].operating()) op.push_back(i);
        long long covered = std::llround(coverage * op.size());
        long long instructors = std::max(1LL, std::llround(covered * seed_instructors / seed_orgs));
        // Organizations with a branch are the likeliest to have an instructor too.
        std::vector<std::pair<double, std::size_t>> keyed;
        for (auto i : op) keyed.emplace_back(rng_.uniform() + (d_.orgs[i].branch_id ? 0.0 : 0.12), i);
        std::sort(keyed.begin(), keyed.end());
        std::vector<std::size_t> chosen;
        for (long long k = 0; k < covered; ++k) chosen.push_back(keyed[static_cast<std::size_t>(k)].second);
        sort_spatially(chosen);
        // Runs of 1 or 2 (a few 3) in spatial order, so that instructors count exactly.
        std::vector<int> sizes(static_cast<std::size_t>(instructors), 1);
        long long extra = covered - instructors;
        for (std::size_t k = 0; extra > 0; k = (k + 1) % sizes.size()) {
            if (sizes[k] < 3 && rng_.chance(0.5)) {
                ++sizes[k];
                --extra;
            }
        }
        std::size_t pos = 0;
        int shortfall = 0;
        std::vector<std::size_t> mine;  // the instructors made here, and their loads
        std::vector<int> load;
        std::vector<char> used(d_.orgs.size(), 0);
        const auto& unit_level_code = [&](Point p) {
            auto cell = cell_of(p);
            return cell ? d_.areas[cells_[*cell].street].code : std::string();
        };
        for (int size : sizes) {
            Instructor in;
            // Staff numbers, as a street office keeps them: text ids through every route.
            char staff[16];
            std::snprintf(staff, sizeof staff, "ZD%05zu", d_.instructors.size() + 1);
            in.id = staff;
            in.name = surname() + given_name();
            double x = 0, y = 0;
            std::map<std::string, int> industries;
            // The next organization along the curve and its nearest unassigned neighbours.
            while (pos < chosen.size() && used[chosen[pos]]) ++pos;
            if (pos == chosen.size()) break;
            std::vector<std::size_t> group{chosen[pos]};
            used[chosen[pos]] = 1;
            // Only neighbours within 5 km: an instructor serves their own street. A group left
            // short in a sparse place hands its shortfall to the next ones (at most 5 each), so
            // the number of organizations covered stays calibrated.
            int want = std::min(5, size + shortfall);
            auto more = nearest_unused(chosen, chosen[pos], static_cast<std::size_t>(want - 1), 5000, used);
            for (auto i : more) {
                used[i] = 1;
                group.push_back(i);
            }
            shortfall = want - static_cast<int>(group.size()) + std::max(0, size + shortfall - 5);
            size = static_cast<int>(group.size());
            in.capacity = rng_.chance(0.2) ? std::max(3, size) : 5;
            for (auto i : group) {
                auto& o = d_.orgs[i];
                o.instructor_id = in.id;
                x += o.location.x;
                y += o.location.y;
                ++industries[o.industry];
            }
            in.home = {x / size + rng_.normal(0, 0.003), y / size + rng_.normal(0, 0.002)};
            in.industries = std::max_element(industries.begin(), industries.end(), [](auto& a, auto& b) {
                                return a.second < b.second;
                            })->first;
            in.unit = unit_level_code(in.home);
            d_.instructors.push_back(std::move(in));
            mine.push_back(d_.instructors.size() - 1);
            load.push_back(size);
        }
        // Any left over (a shortfall at the very end): to the nearest of these instructors with room.
        std::size_t left = 0;
        for (auto i : chosen) {
            if (used[i]) continue;
            ++left;
            std::size_t best = mine.size();
            double best_d = 1e300;
            for (std::size_t m = 0; m < mine.size(); ++m) {
                const auto& in = d_.instructors[mine[m]];
                double dm = haversine_m(in.home, d_.orgs[i].location);
                if (load[m] < in.capacity && dm < best_d) best = m, best_d = dm;
            }
            if (best == mine.size()) continue;
            d_.orgs[i].instructor_id = d_.instructors[mine[best]].id;
            ++load[best];
        }
    }

    void add_instructors() {
        report("instructors", 0);
        // A grid index to find an instructor's street from their home.
        std::vector<const MultiPolygon*> shapes;
        for (const auto& c : cells_) shapes.push_back(&d_.areas[c.area].shape);
        cell_index_ = std::make_unique<PolygonIndex>(shapes);
        add_instructors_for(OrgKind::enterprise, SeedFigures::enterprise_instructor_coverage, 1184, 1618);
        add_instructors_for(OrgKind::social, SeedFigures::social_instructor_coverage, 360, 387);
        report("instructors", 1);
    }

    std::optional<std::size_t> cell_of(Point p) const { return cell_index_ ? cell_index_->locate(p) : std::nullopt; }

    std::string surname() {
        static const std::vector<std::string> s = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
                                                   "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "于"};
        return rng_.pick(s);
    }
    std::string given_name() {
        static const std::vector<std::string> g = {
            "伟", "芳", "娜", "秀英", "敏",   "静", "丽", "强", "磊",   "军",   "洋",   "勇",   "艳",   "杰",
            "娟", "涛", "明", "超",   "秀兰", "霞", "平", "刚", "桂英", "建华", "晓东", "海燕", "志强", "丹"};
        return rng_.pick(g);
    }

    // Rows a real register has and the planner's flags must find.
    void add_dirty_rows(const std::vector<County>& counties) {
        auto first = [&](auto pred) -> Organization* {
            for (auto& o : d_.orgs)
                if (pred(o)) return &o;
            return nullptr;
        };
        // A deregistered organization still carrying a standalone branch (a shell branch).
        if (auto* o =
                first([](const Organization& o) { return o.status == OrgStatus::deregistered && !o.branch_id; })) {
            o->party_members = 3;
            auto i = static_cast<std::size_t>(o - d_.orgs.data());
            new_branch(branch_name(BranchType::standalone, o->name, 1), BranchType::standalone, {i});
        }
        // A standalone branch left with two members (shell branch on an operating organization).
        for (auto& b : d_.branches) {
            if (b.type != BranchType::standalone || b.org_ids.size() != 1) continue;
            auto& o = d_.orgs[std::stoul(b.org_ids[0]) - 1];
            if (!o.operating()) continue;
            o.party_members = 2;
            b.members = 2;
            break;
        }
        // A 60-employee enterprise with no members and no branch.
        if (auto* o = first([](const Organization& o) {
                return o.kind == OrgKind::enterprise && o.operating() && !o.branch_id && o.party_members == 0;
            }))
            o->employees = 60;
        // Two organizations sharing one credit code (a typo in the register).
        if (d_.orgs.size() > 10) d_.orgs[9].credit_code = d_.orgs[8].credit_code;
        // An instructor over capacity.
        for (auto& in : d_.instructors) {
            int load = 0;
            for (const auto& o : d_.orgs) load += o.instructor_id == in.id;
            if (load >= 2) {
                in.capacity = load - 1;
                break;
            }
        }
        // An organization geocoded just outside every grid cell (beyond the county border).
        if (!counties.empty() && !d_.orgs.empty()) {
            BBox box;
            for (const auto& c : counties) box.expand(bounds(c.shape));
            d_.orgs.back().location = {box.minx - 0.01, box.miny - 0.01};
            d_.orgs.back().instructor_id.reset();  // nobody visits an address that is not there
        }
    }

    const DemoParams& params_;
    std::vector<std::uint64_t> keys_;  // hilbert_key per organization (locations are final by then)
    Random rng_;
    Dataset d_;
    std::vector<Cell> cells_;
    std::vector<std::size_t> parks_;
    std::unordered_map<std::size_t, std::unique_ptr<PointSampler>> samplers_;
    std::unique_ptr<PolygonIndex> cell_index_;
};

}  // namespace

Dataset make_demo(const DemoParams& params) {
    if (!(params.scale > 0) || params.scale > 10000) throw invalid_argument("--scale must be in (0, 10000]");
    return Builder(params).build();
}

std::vector<Visit> make_demo_visits(const Dataset& d, std::uint64_t seed, const std::string& today) {
    std::mt19937_64 rng(seed ^ 0x5f0f15u);
    std::uniform_real_distribution<double> u(0, 1);
    const char* kinds[] = {"走访", "电话", "实地查看", "蹲点"};
    std::discrete_distribution<int> kind_of({45, 30, 15, 10});
    // The four quarters back from today's: their first and last days (the current one ends today).
    std::string starts[4], ends[4];
    starts[0] = quarter_start(today);
    ends[0] = today;
    for (int q = 1; q < 4; ++q) {
        ends[q] = add_days(starts[q - 1], -1);
        starts[q] = quarter_start(ends[q]);
    }
    auto span = [](const std::string& a, const std::string& b) {
        return static_cast<int>((epoch_seconds(b) - epoch_seconds(a)) / 86400);
    };
    // How much of this quarter has passed: the share verified so far follows it.
    double passed = (span(starts[0], today) + 1.0) / (span(starts[0], add_days(starts[0], 91)) + 1.0);
    std::vector<Visit> out;
    for (const auto& o : d.orgs) {
        if (!o.operating() || (!o.instructor_id && !o.branch_id)) continue;
        for (int q = 0; q < 4; ++q) {
            double confirmed = (o.instructor_id ? 0.82 : 0.45) * (q == 0 ? std::min(1.0, passed) : 1.0);
            bool visit = u(rng) < confirmed;
            bool call = u(rng) < 0.2;
            for (int k = 0; k < 2; ++k) {
                if (!(k == 0 ? visit : call)) continue;
                Visit v;
                v.org = o.id;
                v.date = add_days(starts[q], static_cast<int>(u(rng) * (span(starts[q], ends[q]) + 1)));
                if (v.date > today) v.date = today;
                v.kind = k == 0 ? kinds[kind_of(rng)] : "电话";
                v.ledger_confirmed = k == 0;
                v.note = k == 0 ? "核对五清台账" : "电话了解近况";
                v.by = "演示";
                v.instructor = o.instructor_id.value_or("");
                v.time = v.date + "T02:00:00Z";
                out.push_back(std::move(v));
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const Visit& a, const Visit& b) { return a.date < b.date; });
    return out;
}

DemoFieldLoop make_demo_sites(const Dataset& d, std::uint64_t seed, const std::string& today) {
    DemoFieldLoop out;
    const int year = std::stoi(today.substr(0, 4));
    std::mt19937_64 rng(seed ^ 0x51735u);
    static const std::map<std::string, int> county = {{"铁岭县", 30}, {"开原市", 30}, {"昌图县", 30}, {"调兵山市", 30},
                                                      {"西丰县", 20}, {"银州区", 20}, {"清河区", 20},
                                                      {"铁岭经济技术开发区", 15}, {"铁岭高新技术产业开发区", 5}};
    std::vector<const Area*> places;
    std::string city;
    for (const auto& a : d.areas)
        if ((a.level == Level::district || a.level == Level::park) && county.count(a.name)) {
            out.quotas.push_back({a.code, "county", year, county.at(a.name)});
            places.push_back(&a);
        }
    city = city_code(d.areas);
    if (!city.empty()) out.quotas.push_back({city, "city", year, 30});
    // Candidates: organizations with a standalone branch (a site is a branch to learn from).
    auto types = branch_types(d);
    std::vector<const Organization*> strong;
    for (const auto& o : d.orgs)
        if (o.operating() && o.branch_id && in_standalone_branch(o, types)) strong.push_back(&o);
    std::shuffle(strong.begin(), strong.end(), rng);
    // About 40 % of each district's county quota is designated so far (as far as it has candidates).
    std::vector<const MultiPolygon*> shapes;
    std::vector<const Area*> which;
    for (const auto* a : places)
        if (a->level == Level::district) shapes.push_back(&a->shape), which.push_back(a);
    std::vector<Point> points;
    for (const auto* o : strong) points.push_back(o->location);
    auto hits = locate_points(shapes, points);
    std::map<std::string, int> placed;
    for (std::size_t k = 0; k < strong.size(); ++k) {
        if (hits[k] < 0) continue;
        const Area* district = which[static_cast<std::size_t>(hits[k])];
        if (placed[district->code] >= county.at(district->name) * 2 / 5) continue;
        ++placed[district->code];
        out.sites.push_back({0, strong[k]->id, "county", year, add_days(today, -30 - static_cast<int>(k % 200)), "演示"});
    }
    for (std::size_t k = 0; k < out.sites.size() && k < 12; k += 3)  // a few are city-level too
        out.sites.push_back({0, out.sites[k].org, "city", year, out.sites[k].since, "演示"});
    // Leading cadres' contact points: half of them already sites, the rest to be built into sites.
    static const char* leaders[][2] = {{"王建国", "市委常委、组织部部长"}, {"李明华", "市委副书记"},
                                       {"张卫东", "银州区委书记"},        {"刘志强", "开原市委书记"},
                                       {"陈立新", "昌图县委书记"},        {"杨海涛", "调兵山市委书记"},
                                       {"赵丽娟", "西丰县委副书记"},      {"孙国庆", "铁岭县委副书记"},
                                       {"周文斌", "清河区副区长"},        {"吴晓东", "开发区党工委书记"}};
    std::vector<const Organization*> any;
    for (const auto& o : d.orgs)
        if (o.operating() && o.branch_id) any.push_back(&o);
    std::shuffle(any.begin(), any.end(), rng);
    for (std::size_t k = 0; k < std::size(leaders); ++k) {
        const Organization* o = k % 2 == 0 && k / 2 < out.sites.size() ? nullptr : (k < any.size() ? any[k] : nullptr);
        Id org = o ? o->id : (k / 2 < out.sites.size() ? out.sites[k / 2].org : Id());
        if (org.empty()) continue;
        out.contact_points.push_back({0, leaders[k][0], leaders[k][1], "组织部组织二科", org, std::min(today, std::to_string(year) + "-07-31"), "演示"});
    }
    return out;
}

}  // namespace covermap::geo

// The instructors' work as planners steer it: draw and assign, loads, rebalancing, plan figures.
#include "covermap/geo/workload.hpp"

#include <algorithm>
#include <numeric>
#include <queue>
#include <set>
#include <unordered_map>

#include "covermap/geo/assignment.hpp"
#include "covermap/geo/geometry.hpp"

namespace covermap::geo {

bool needs_instructor(const Organization& o) { return o.operating() && !o.branch_id && !o.instructor_id; }

SelectionAssignment assign_selection(const Dataset& d, std::vector<std::size_t> orgs,
                                     std::vector<std::size_t> instructors, const std::vector<int>& load) {
    auto by_org_id = [&](std::size_t a, std::size_t b) { return d.orgs[a].id < d.orgs[b].id; };
    auto by_instructor_id = [&](std::size_t a, std::size_t b) { return d.instructors[a].id < d.instructors[b].id; };
    std::sort(orgs.begin(), orgs.end(), by_org_id);
    orgs.erase(std::unique(orgs.begin(), orgs.end()), orgs.end());
    std::sort(instructors.begin(), instructors.end(), by_instructor_id);
    instructors.erase(std::unique(instructors.begin(), instructors.end()), instructors.end());

    AssignmentProblem problem;
    for (auto i : orgs) problem.orgs.push_back(d.orgs[i].location);
    for (auto j : instructors) {
        problem.instructors.push_back(d.instructors[j].home);
        problem.spare.push_back(std::max(0, d.instructors[j].capacity - load[j]));
    }
    int room = std::accumulate(problem.spare.begin(), problem.spare.end(), 0);
    SelectionAssignment out;
    std::vector<int> chosen(orgs.size(), -1);
    if (!orgs.empty() && room > 0) {
        problem.k = std::min<std::size_t>(8, instructors.size());
        auto solved = solve_assignment(problem);
        chosen = solved.instructor_of;
    }
    for (std::size_t i = 0; i < orgs.size(); ++i) {
        if (chosen[i] < 0) {
            out.unassigned.push_back({orgs[i], instructors.empty() ? "没有可选的指导员"
                                               : room == 0       ? "所选指导员都已满额"
                                                                 : "指导员名额已用完"});
            continue;
        }
        auto j = instructors[static_cast<std::size_t>(chosen[i])];
        double m = haversine_m(d.orgs[orgs[i]].location, d.instructors[j].home);
        out.assigned.push_back({orgs[i], j, m});
        out.total_m += m;
    }
    return out;
}

std::vector<InstructorLoad> instructor_loads(const Dataset& d) {
    std::vector<InstructorLoad> loads(d.instructors.size());
    std::unordered_map<Id, std::size_t> index;
    for (std::size_t j = 0; j < d.instructors.size(); ++j) {
        loads[j].instructor = j;
        index[d.instructors[j].id] = j;
    }
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        const auto& o = d.orgs[i];
        if (!o.instructor_id) continue;
        auto it = index.find(*o.instructor_id);
        if (it == index.end()) continue;
        auto& l = loads[it->second];
        l.orgs.push_back(i);
        l.distance_m += haversine_m(o.location, d.instructors[it->second].home);
    }
    for (auto& l : loads)
        std::sort(l.orgs.begin(), l.orgs.end(), [&](std::size_t a, std::size_t b) { return d.orgs[a].id < d.orgs[b].id; });
    return loads;
}

namespace {

// The state a rebalance works on: each instructor's load (all it serves), each of the area's
// organizations' instructor, and the figures over the instructors concerned.
struct Loads {
    const Dataset& d;
    std::vector<std::size_t> who;          // instructors concerned, by id
    std::vector<int> load;                 // per index of d.instructors
    std::vector<std::size_t> orgs;         // the area's assigned organizations, by id
    std::vector<std::size_t> of;           // their instructor (index in d.instructors), same order
    std::vector<char> concerned;           // per index of d.instructors

    double ratio(std::size_t j) const {
        int cap = std::max(1, d.instructors[j].capacity);
        return static_cast<double>(load[j]) / cap;
    }
    int overloaded() const {
        int n = 0;
        for (auto j : who) n += load[j] > d.instructors[j].capacity;
        return n;
    }
    double max_ratio() const {
        double r = 0;
        for (auto j : who) r = std::max(r, ratio(j));
        return r;
    }
    double distance() const {
        double m = 0;
        for (std::size_t k = 0; k < orgs.size(); ++k) m += dist(k, of[k]);
        return m;
    }
    double dist(std::size_t k, std::size_t j) const { return haversine_m(d.orgs[orgs[k]].location, d.instructors[j].home); }
    bool room(std::size_t j) const { return load[j] < d.instructors[j].capacity; }
};

}  // namespace

Rebalance rebalance(const Dataset& d, const std::vector<char>& in_area, const std::vector<std::size_t>& instructors,
                    std::size_t max_moves) {
    Loads s{d, instructors, std::vector<int>(d.instructors.size(), 0), {}, {}, std::vector<char>(d.instructors.size(), 0)};
    std::sort(s.who.begin(), s.who.end(), [&](std::size_t a, std::size_t b) { return d.instructors[a].id < d.instructors[b].id; });
    s.who.erase(std::unique(s.who.begin(), s.who.end()), s.who.end());
    for (auto j : s.who) s.concerned[j] = 1;
    std::unordered_map<Id, std::size_t> index;
    for (std::size_t j = 0; j < d.instructors.size(); ++j) index[d.instructors[j].id] = j;
    std::vector<std::size_t> area_orgs;
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        const auto& o = d.orgs[i];
        if (!o.instructor_id) continue;
        auto it = index.find(*o.instructor_id);
        if (it == index.end()) continue;
        ++s.load[it->second];
        // Only an operating organization without a branch is the instructor's to hand on.
        if (i < in_area.size() && in_area[i] && o.operating() && !o.branch_id && s.concerned[it->second])
            area_orgs.push_back(i);
    }
    std::sort(area_orgs.begin(), area_orgs.end(), [&](std::size_t a, std::size_t b) { return d.orgs[a].id < d.orgs[b].id; });
    for (auto i : area_orgs) {
        s.orgs.push_back(i);
        s.of.push_back(index.at(*d.orgs[i].instructor_id));
    }

    Rebalance r;
    r.overloaded_before = s.overloaded();
    r.max_load_before = s.max_ratio();
    r.distance_before_m = s.distance();
    std::vector<char> moved(s.orgs.size(), 0);
    auto apply = [&](std::size_t k, std::size_t to) {
        std::size_t from = s.of[k];
        r.moves.push_back({s.orgs[k], from, to, s.dist(k, from) - s.dist(k, to)});
        --s.load[from];
        ++s.load[to];
        s.of[k] = to;
        moved[k] = 1;
    };

    // Pass 1: every overload cleared, one organization at a time, the move that costs the least
    // extra distance first (ties: the organization's and the instructor's ids, by their order).
    while (r.moves.size() < max_moves) {
        double best = 0;
        std::size_t best_k = 0, best_to = 0;
        bool found = false;
        for (std::size_t k = 0; k < s.orgs.size(); ++k) {
            std::size_t from = s.of[k];
            if (moved[k] || s.load[from] <= d.instructors[from].capacity) continue;
            for (auto to : s.who) {
                if (to == from || !s.room(to)) continue;
                double extra = s.dist(k, to) - s.dist(k, from);
                if (!found || extra < best - 1e-6) best = extra, best_k = k, best_to = to, found = true;
            }
        }
        if (!found) break;
        apply(best_k, best_to);
    }

    // Pass 2: moves that cut distance, the largest saving first, each organization's best
    // instructor with room; a queue re-checked lazily (an instructor fills up, another gains
    // room as organizations leave it).
    struct Offer {
        double saved;
        std::size_t k, to;
        bool operator<(const Offer& o) const { return saved != o.saved ? saved < o.saved : k > o.k; }
    };
    auto best_offer = [&](std::size_t k, Offer& out) {
        bool found = false;
        double here = s.dist(k, s.of[k]);
        for (auto to : s.who) {
            if (to == s.of[k] || !s.room(to)) continue;
            double saved = here - s.dist(k, to);
            if (saved > 1.0 && (!found || saved > out.saved + 1e-6)) out = {saved, k, to}, found = true;
        }
        return found;
    };
    std::priority_queue<Offer> queue;
    for (std::size_t k = 0; k < s.orgs.size(); ++k) {
        Offer o;
        if (!moved[k] && best_offer(k, o)) queue.push(o);
    }
    while (r.moves.size() < max_moves && !queue.empty()) {
        Offer o = queue.top();
        queue.pop();
        if (moved[o.k]) continue;
        if (!s.room(o.to)) {  // taken meanwhile: this organization's next best, if any
            Offer again;
            if (best_offer(o.k, again)) queue.push(again);
            continue;
        }
        std::size_t from = s.of[o.k];
        apply(o.k, o.to);
        // The instructor left gains room: organizations that would save more by going to it.
        for (std::size_t k = 0; k < s.orgs.size(); ++k) {
            if (moved[k] || s.of[k] == from) continue;
            double saved = s.dist(k, s.of[k]) - s.dist(k, from);
            if (saved > 1.0) queue.push({saved, k, from});
        }
    }
    r.overloaded_after = s.overloaded();
    r.max_load_after = s.max_ratio();
    r.distance_after_m = s.distance();
    return r;
}

PlanFigures plan_figures(const Dataset& d, const std::vector<Proposal>& proposals) {
    PlanFigures f;
    std::unordered_map<Id, std::size_t> org_index, instructor_index;
    for (std::size_t i = 0; i < d.orgs.size(); ++i) org_index[d.orgs[i].id] = i;
    for (std::size_t j = 0; j < d.instructors.size(); ++j) instructor_index[d.instructors[j].id] = j;
    // Each organization's state after the proposals: a branch, an instructor (or none).
    std::vector<char> branch(d.orgs.size(), 0);
    std::vector<std::optional<Id>> instructor(d.orgs.size());
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        branch[i] = d.orgs[i].branch_id.has_value();
        instructor[i] = d.orgs[i].instructor_id;
    }
    auto name_of = [&](const std::optional<Id>& id) {
        if (!id) return std::string("?");
        auto it = instructor_index.find(*id);
        return it == instructor_index.end() ? *id : d.instructors[it->second].name;
    };
    std::set<Id> touched;
    for (const auto& p : proposals)
        for (const auto& id : p.orgs) {
            auto it = org_index.find(id);
            if (it == org_index.end()) continue;
            touched.insert(id);
            std::size_t i = it->second;
            if (p.type == "instructor" || p.type == "move") {
                instructor[i] = p.instructor_id;
                f.outcome[id] = (p.type == "move" ? "改由指导员" : "指导员") + name_of(p.instructor_id);
            } else {
                branch[i] = 1;
                f.outcome[id] = p.type == "joint"        ? "联合组建党组织"
                                : p.type == "standalone" ? "单独组建党组织"
                                                         : "挂靠组建党组织";
            }
        }
    f.orgs_touched = touched.size();
    long operating = 0, with_branch = 0, with_work = 0;
    std::set<Id> used;
    for (std::size_t i = 0; i < d.orgs.size(); ++i) {
        const auto& o = d.orgs[i];
        if (instructor[i]) {
            used.insert(*instructor[i]);
            auto it = instructor_index.find(*instructor[i]);
            if (it != instructor_index.end()) f.total_m += haversine_m(o.location, d.instructors[it->second].home);
        }
        if (!o.operating()) continue;
        ++operating;
        with_branch += branch[i];
        with_work += branch[i] || instructor[i];
    }
    f.instructors_used = used.size();
    f.org_coverage = operating ? static_cast<double>(with_branch) / operating : 0;
    f.work_coverage = operating ? static_cast<double>(with_work) / operating : 0;
    return f;
}

}  // namespace covermap::geo

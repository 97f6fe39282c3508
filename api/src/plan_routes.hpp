#pragma once
// Plans: made from the data as it is (the planner), kept in the store (the last few also here,
// parsed), listed, accepted proposal by proposal through the editing service, deleted, and
// pruned when nobody accepted anything of them.

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "covermap/geo/store.hpp"
#include "router.hpp"

namespace covermap::api {

class Plans {
public:
    explicit Plans(Context& context);
    void add_routes(Router& router);

private:
    Response make(const Request&, const Caller&, const Args&);
    Response get(const Request&, const Caller&, const Args&);
    Response list(const Request&, const Caller&, const Args&);
    Response accept(const Request&, const Caller&, const Args&);
    Response remove(const Request&, const Caller&, const Args&);
    Response compare(const Request&, const Caller&, const Args&);
    Response rebalance(const nlohmann::json& body, const Caller& who);
    /// Names a new plan, stores it (pruning old ones) and keeps it here; the plan as stored.
    const nlohmann::json& keep_new(nlohmann::json& plan, const Caller& who);

    /// Deletes the plans nobody accepted anything of, past plan_max_age_days or plan_max_open.
    void prune(geo::Store& store);
    std::optional<nlohmann::json> find(const std::string& id);
    void remember(const std::string& id, const nlohmann::json& plan);
    void forget(const std::vector<std::string>& ids);

    Context& context_;
    std::mutex mutex_;
    std::map<std::string, nlohmann::json> plans_;
    std::vector<std::string> order_;  // oldest first, for the memory bound
    int next_ = 1;
};

}  // namespace covermap::api

#pragma once
// Files in and out: an export of a layer (from a copy of the data, never holding a lock an edit
// waits for) and an upload's import (read, checked and compared beside edits; committed by the
// editing service).

#include "router.hpp"

namespace covermap::api {

class Transfer {
public:
    explicit Transfer(Context& context) : context_(context) {}
    void add_routes(Router& router);

private:
    Response export_layer(const Request&, const Caller&, const Args&);
    Response import_layer(const Request&, const Caller&, const Args&);

    Context& context_;
};

}  // namespace covermap::api

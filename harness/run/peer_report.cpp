#include "harness/run/peer_report.hpp"

#include <climits>
#include <variant>

#include <nlohmann/json.hpp>

namespace ipcmark {
namespace {

using nlohmann::json;

bool every_peer(const PeerArgs&) { return true; }
bool sender(const PeerArgs& p) {
  return p.role == Role::Server && (p.pattern == Pattern::Stream || p.pattern == Pattern::Fanout);
}
bool open_loop_sender(const PeerArgs& p) { return sender(p) && p.rate != 0; }
bool fanout_server(const PeerArgs& p) { return p.role == Role::Server && p.pattern == Pattern::Fanout; }
bool client(const PeerArgs& p) { return p.role == Role::Client && p.pattern != Pattern::Fanout; }
bool fanout_reader(const PeerArgs& p) { return p.role == Role::Client && p.pattern == Pattern::Fanout; }
bool any_client(const PeerArgs& p) { return p.role == Role::Client; }

using Field = std::variant<std::uint64_t PeerReport::*, int PeerReport::*, double PeerReport::*,
                           LatencyHistogram PeerReport::*>;

struct Key {
  const char* name;
  Field field;
  bool (*sent_by)(const PeerArgs&);
};

// Every key of a successful report but "role", once, with the peers that send it.
const Key kKeys[] = {
    {"cpu_ns", &PeerReport::cpu_ns, every_peer},
    {"context_switches", &PeerReport::context_switches, every_peer},
    {"first_send_ns", &PeerReport::first_send_ns, sender},
    {"achieved_rate", &PeerReport::achieved_rate, open_loop_sender},
    {"pacing_ns", &PeerReport::pacing_ns, open_loop_sender},
    {"sleep_margin_ns", &PeerReport::sleep_margin_ns, open_loop_sender},
    {"readers_lost", &PeerReport::readers_lost, fanout_server},
    {"messages", &PeerReport::messages, client},
    {"elapsed_ns", &PeerReport::elapsed_ns, client},
    {"reader", &PeerReport::reader, fanout_reader},
    {"received", &PeerReport::received, fanout_reader},
    {"last_receive_ns", &PeerReport::last_receive_ns, fanout_reader},
    {"lost", &PeerReport::lost, any_client},
    {"reordered", &PeerReport::reordered, any_client},
    {"corrupted", &PeerReport::corrupted, any_client},
    {"histogram", &PeerReport::histogram, any_client},
};

[[noreturn]] void bad(const std::string& why) { throw Error(Errc::Corrupt, "bad peer report: " + why); }

std::string describe(const json& v) { return v.is_primitive() ? v.dump() : "an " + std::string(v.type_name()); }

[[noreturn]] void mistyped(const std::string& key, const json& v, const char* expected) {
  bad("'" + key + "' is " + describe(v) + ", not " + expected);
}

json value_json(const LatencyHistogram& h) { return h.to_json(); }
template <class T>
json value_json(const T& v) {
  return v;
}

void read_value(const std::string& key, const json& v, std::uint64_t& out) {
  if (!v.is_number_unsigned()) mistyped(key, v, "an unsigned integer");
  out = v.get<std::uint64_t>();
}
void read_value(const std::string& key, const json& v, int& out) {
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() > INT_MAX) mistyped(key, v, "a non-negative int");
  out = v.get<int>();
}
void read_value(const std::string& key, const json& v, double& out) {
  if (!v.is_number() || !(v.get<double>() >= 0)) mistyped(key, v, "a non-negative number");
  out = v.get<double>();
}
void read_value(const std::string& key, const json& v, LatencyHistogram& out) {
  try {
    out = LatencyHistogram::from_json(v);
  } catch (const std::exception& e) {
    bad("'" + key + "': " + e.what());
  }
}
void read_value(const std::string& key, const json& v, std::string& out) {
  if (!v.is_string() || v.get<std::string>().empty()) mistyped(key, v, "a non-empty string");
  out = v.get<std::string>();
}

const json& at(const json& j, const std::string& key) {
  const auto it = j.find(key);
  if (it == j.end()) bad("missing key '" + key + "'");
  return *it;
}

PeerReport failure_from_json(const json& j) {
  for (const auto& [key, value] : j.items())
    if (key != "error" && key != "code") bad("unexpected key '" + key + "' beside 'error'");
  PeerReport report;
  read_value("error", at(j, "error"), report.error);
  read_value("code", at(j, "code"), report.code);
  return report;
}

}  // namespace

PeerReport PeerReport::failure(std::string error, std::string code) {
  PeerReport report;
  report.error = error.empty() ? "failed without a message" : std::move(error);  // failed() stays true
  report.code = std::move(code);
  return report;
}

json PeerReport::to_json(const PeerArgs& peer) const {
  if (failed()) return {{"error", error}, {"code", code}};
  json j{{"role", std::string(to_string(peer.role))}};
  for (const Key& key : kKeys)
    if (key.sent_by(peer)) std::visit([&](auto member) { j[key.name] = value_json(this->*member); }, key.field);
  return j;
}

PeerReport PeerReport::from_json(const json& j, const PeerArgs& peer) {
  if (!j.is_object()) bad("not a JSON object");
  if (j.contains("error")) return failure_from_json(j);
  const std::string role(to_string(peer.role));
  if (const json& r = at(j, "role"); r != role) bad("'role' is " + describe(r) + ", not \"" + role + "\"");
  PeerReport report;
  for (const Key& key : kKeys)
    if (key.sent_by(peer))
      std::visit([&](auto member) { read_value(key.name, at(j, key.name), report.*member); }, key.field);
  for (const auto& [name, value] : j.items()) {
    bool owed = name == "role";
    for (const Key& key : kKeys) owed = owed || (name == key.name && key.sent_by(peer));
    if (!owed)
      bad("unexpected key '" + name + "' (a " + std::string(to_string(peer.pattern)) + " " + role +
          " does not send it)");
  }
  return report;
}

}  // namespace ipcmark

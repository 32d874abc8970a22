// RawNodes → Instructions, with the checks of BuildKit's frontend/dockerfile/instructions
// (parse.go, bflag.go and the RUN flag hooks): every message is Docker's.

#include <algorithm>
#include <cctype>
#include <limits>

#include "build/dockerfile/duration.h"
#include "build/dockerfile/parser_internal.h"
#include "build/dockerfile/text.h"

namespace berth::build::internal {
namespace {

enum class FlagType { kBool, kString, kStrings };
struct FlagSpec {
  std::string_view name;
  FlagType type;
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimAsciiSpace(std::string_view s) {
  auto sp = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return s;
}

// BFlags.Parse: every flag known, no duplicates (but repeatable ones), values of the right
// kind; bool values normalised.
Result<std::vector<Flag>> ParseFlags(const std::vector<std::string>& raw,
                                     const std::vector<FlagSpec>& specs) {
  std::vector<Flag> out;
  std::vector<std::string> used;
  for (const auto& a : raw) {
    if (a == "--") return out;
    if (a.rfind("--", 0) != 0) return Error::InvalidArgument("arg should start with -- : " + a);
    auto eq = a.find('=');
    std::string flag_name = a.substr(0, eq);
    bool has_value = eq != std::string::npos;
    std::string value = has_value ? a.substr(eq + 1) : "";
    std::string name = flag_name.substr(2);
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& s : specs) names.emplace_back(s.name);
      return Error::InvalidArgument("unknown flag: " + flag_name + Suggest(name, names, true));
    }
    if (std::find(used.begin(), used.end(), name) != used.end() &&
        spec->type != FlagType::kStrings) {
      return Error::InvalidArgument("duplicate flag specified: " + flag_name);
    }
    used.push_back(name);
    Flag f{name, value, has_value};
    switch (spec->type) {
      case FlagType::kBool: {
        if (has_value && value.empty()) {
          return Error::InvalidArgument("missing a value on flag: " + flag_name);
        }
        std::string lower = value;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "true" || lower.empty()) {
          f.value = "true";
        } else if (lower == "false") {
          f.value = "false";
        } else {
          return Error::InvalidArgument("expecting boolean value for flag " + flag_name +
                                        ", not: " + value);
        }
        break;
      }
      case FlagType::kString:
      case FlagType::kStrings:
        if (!has_value) return Error::InvalidArgument("missing a value on flag: " + flag_name);
        break;
    }
    out.push_back(std::move(f));
  }
  return out;
}

Error AtLeastOne(std::string_view cmd) {
  return Error::InvalidArgument(std::string(cmd) + " requires at least one argument");
}
Error ExactlyOne(std::string_view cmd) {
  return Error::InvalidArgument(std::string(cmd) + " requires exactly one argument");
}
Error NoDestination(std::string_view cmd) {
  return Error::InvalidArgument(std::string(cmd) +
                                " requires at least two arguments, but only one was provided. "
                                "Destination could not be determined");
}

bool ValidStageName(std::string_view s) {
  // ^[a-z][a-z0-9-_.]*$
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

const std::vector<std::string>& InstructionNames() {
  static const std::vector<std::string> kNames = {
      "add",    "arg",   "cmd",         "copy",  "entrypoint", "env",
      "expose", "from",  "healthcheck", "label", "maintainer", "onbuild",
      "run",    "shell", "stopsignal",  "user",  "volume",     "workdir"};
  return kNames;
}

Result<int64_t> Interval(const std::vector<Flag>& flags, std::string_view name) {
  const Flag* f = nullptr;
  for (const auto& x : flags) {
    if (x.name == name) f = &x;
  }
  if (!f || f->value.empty()) return int64_t{0};
  int64_t d = BERTH_TRY(ParseGoDuration(f->value));
  if (d == 0) return int64_t{0};
  if (d < 1000000) {
    return Error::InvalidArgument("Interval " + GoQuote(name) + " cannot be less than 1ms");
  }
  return d;
}

Result<void> ParseHealth(const RawNode& n, Instruction* ins) {
  if (n.args.empty()) return AtLeastOne("HEALTHCHECK");
  std::string typ = Upper(n.args[0]);
  std::vector<std::string> rest(n.args.begin() + 1, n.args.end());
  Healthcheck hc;
  if (typ == "NONE") {
    if (!rest.empty()) return Error::InvalidArgument("HEALTHCHECK NONE takes no arguments");
    hc.test = {typ};
    ins->healthcheck = std::move(hc);
    return {};
  }
  ins->flags = BERTH_TRY(ParseFlags(n.flags, {{"interval", FlagType::kString},
                                              {"timeout", FlagType::kString},
                                              {"start-period", FlagType::kString},
                                              {"start-interval", FlagType::kString},
                                              {"retries", FlagType::kString}}));
  if (typ != "CMD") {
    return Error::InvalidArgument("Unknown type " + GoQuote(typ) + " in HEALTHCHECK (try CMD)");
  }
  if (rest.empty()) return Error::InvalidArgument("Missing command after HEALTHCHECK CMD");
  if (n.json) {
    hc.test = {"CMD"};
    hc.test.insert(hc.test.end(), rest.begin(), rest.end());
  } else {
    std::string joined;
    for (size_t i = 0; i < rest.size(); ++i) joined += (i ? " " : "") + rest[i];
    hc.test = {"CMD-SHELL", joined};
  }
  hc.interval_ns = BERTH_TRY(Interval(ins->flags, "interval"));
  hc.timeout_ns = BERTH_TRY(Interval(ins->flags, "timeout"));
  hc.start_period_ns = BERTH_TRY(Interval(ins->flags, "start-period"));
  hc.start_interval_ns = BERTH_TRY(Interval(ins->flags, "start-interval"));
  if (const Flag* r = ins->FindFlag("retries"); r && !r->value.empty()) {
    const std::string& v = r->value;
    size_t i = (v[0] == '+' || v[0] == '-') ? 1 : 0;
    bool digits = i < v.size() &&
                  std::all_of(v.begin() + i, v.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      return Error::InvalidArgument("strconv.ParseInt: parsing " + GoQuote(v) + ": invalid syntax");
    }
    long long x = 0;
    bool range = true;
    for (size_t k = i; k < v.size(); ++k) {
      x = x * 10 + (v[k] - '0');
      if (x > (1LL << 31)) range = false, x = 1LL << 31;
    }
    if (v[0] == '-') x = -x;
    if (!range || x > std::numeric_limits<int32_t>::max() ||
        x < std::numeric_limits<int32_t>::min()) {
      return Error::InvalidArgument("strconv.ParseInt: parsing " + GoQuote(v) +
                                    ": value out of range");
    }
    if (x < 0) {
      return Error::InvalidArgument("--retries cannot be negative (" + std::to_string(x) + ")");
    }
    hc.retries = static_cast<int>(x);
  }
  ins->healthcheck = std::move(hc);
  return {};
}

Result<void> CheckSourcesAndDest(const Instruction& ins) {
  if (IsHeredocMarker(ins.args.back())) {
    return Error::InvalidArgument(ins.keyword + " cannot accept a heredoc as a destination");
  }
  return {};
}

Result<void> CheckRun(const RawNode& n, Instruction* ins) {
  ins->flags = BERTH_TRY(ParseFlags(n.flags, {{"mount", FlagType::kStrings},
                                              {"network", FlagType::kString},
                                              {"security", FlagType::kString},
                                              {"device", FlagType::kStrings}}));
  for (const auto& spec : ins->FlagValues("mount")) BERTH_TRY(ParseRunMount(spec));
  if (const Flag* f = ins->FindFlag("network")) {
    if (f->value != "default" && f->value != "none" && f->value != "host") {
      return Error::InvalidArgument("invalid network mode " + GoQuote(f->value));
    }
  }
  if (const Flag* f = ins->FindFlag("security")) {
    if (f->value != "insecure" && f->value != "sandbox") {
      return Error::InvalidArgument("security " + GoQuote(f->value) + " is not valid");
    }
  }
  return {};
}

}  // namespace

Result<Instruction> ConvertNode(const RawNode& n) {
  Instruction ins;
  ins.keyword = Upper(n.command);
  ins.original = std::string(TrimAsciiSpace(n.original));
  ins.line = n.start_line;
  ins.end_line = n.end_line;
  ins.args = n.args;
  ins.json_form = n.json;
  ins.heredocs = n.heredocs;
  for (auto& h : ins.heredocs) {
    if (!h.chomp_tabs) continue;
    std::string out;
    bool line_start = true;
    for (char c : h.content) {
      if (line_start && c == '\t') continue;
      line_start = c == '\n';
      out.push_back(c);
    }
    h.content = std::move(out);
  }
  const std::string& k = ins.keyword;
  auto no_flags = [&]() -> Result<void> {
    ins.flags = BERTH_TRY(ParseFlags(n.flags, {}));
    return {};
  };
  if (k == "ENV" || k == "LABEL") {
    BERTH_TRY(no_flags());
    if (ins.args.empty()) return AtLeastOne(k);
    if (ins.args.size() % 2 != 0) {
      return Error::InvalidArgument("Bad input to " + k + ", too many arguments");
    }
    for (size_t i = 0; i < ins.args.size(); i += 2) {
      if (ins.args[i].empty()) return Error::InvalidArgument(k + " names can not be blank");
    }
  } else if (k == "MAINTAINER" || k == "WORKDIR" || k == "USER") {
    if (ins.args.size() != 1) return ExactlyOne(k);
    BERTH_TRY(no_flags());
  } else if (k == "STOPSIGNAL") {
    if (ins.args.size() != 1) return ExactlyOne(k);
    // Docker neither checks nor uses STOPSIGNAL's flags.
  } else if (k == "ADD") {
    if (ins.args.size() < 2) return NoDestination(k);
    ins.flags = BERTH_TRY(ParseFlags(n.flags, {{"chown", FlagType::kString},
                                               {"chmod", FlagType::kString},
                                               {"link", FlagType::kBool},
                                               {"keep-git-dir", FlagType::kBool},
                                               {"checksum", FlagType::kString},
                                               {"unpack", FlagType::kBool},
                                               {"exclude", FlagType::kStrings}}));
    BERTH_TRY(CheckSourcesAndDest(ins));
  } else if (k == "COPY") {
    if (ins.args.size() < 2) return NoDestination(k);
    ins.flags = BERTH_TRY(ParseFlags(n.flags, {{"chown", FlagType::kString},
                                               {"from", FlagType::kString},
                                               {"chmod", FlagType::kString},
                                               {"link", FlagType::kBool},
                                               {"exclude", FlagType::kStrings},
                                               {"parents", FlagType::kBool}}));
    BERTH_TRY(CheckSourcesAndDest(ins));
  } else if (k == "FROM") {
    if (ins.args.size() == 3 && Upper(ins.args[1]) == "AS") {
      std::string name = ins.args[2];
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!ValidStageName(name)) {
        return Error::InvalidArgument("invalid name for build stage: " + GoQuote(ins.args[2]) +
                                      ", name can't start with a number or contain symbols");
      }
    } else if (ins.args.size() != 1) {
      return Error::InvalidArgument("FROM requires either one or three arguments");
    }
    ins.flags = BERTH_TRY(ParseFlags(n.flags, {{"platform", FlagType::kString}}));
  } else if (k == "ONBUILD") {
    if (!n.sub) return AtLeastOne(k);
    BERTH_TRY(no_flags());
    std::string trigger = Upper(TrimAsciiSpace(n.sub->command));
    if (trigger == "ONBUILD") {
      return Error::InvalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    }
    if (trigger == "MAINTAINER" || trigger == "FROM") {
      return Error::InvalidArgument(trigger + " isn't allowed as an ONBUILD trigger");
    }
    // The trigger as Docker stores it: the line without "ONBUILD", heredocs appended.
    std::string_view orig = n.original;
    size_t i = 0;
    while (i < orig.size() && std::isspace(static_cast<unsigned char>(orig[i]))) ++i;
    i += 7;  // "onbuild", any case
    while (i < orig.size() && std::isspace(static_cast<unsigned char>(orig[i]))) ++i;
    std::string expr(orig.substr(std::min(i, orig.size())));
    for (const auto& h : n.heredocs) expr += "\n" + h.content + h.name;
    ins.args = {expr};
    // Docker checks the trigger only when a build runs it; keep it parsed when it parses.
    RawNode sub;
    sub.command = n.sub->command;
    sub.original = n.sub->original;
    sub.flags = n.sub->flags;
    sub.args = n.sub->args;
    sub.json = n.sub->json;
    sub.heredocs = n.heredocs;
    sub.start_line = n.start_line;
    sub.end_line = n.end_line;
    auto inner = ConvertNode(sub);
    if (inner) ins.onbuild = std::make_shared<const Instruction>(std::move(*inner));
  } else if (k == "RUN") {
    BERTH_TRY(CheckRun(n, &ins));
  } else if (k == "CMD" || k == "ENTRYPOINT") {
    BERTH_TRY(no_flags());
  } else if (k == "HEALTHCHECK") {
    BERTH_TRY(ParseHealth(n, &ins));
  } else if (k == "EXPOSE") {
    if (ins.args.empty()) return AtLeastOne(k);
    BERTH_TRY(no_flags());
    std::sort(ins.args.begin(), ins.args.end());
  } else if (k == "VOLUME") {
    if (ins.args.empty()) return AtLeastOne(k);
    BERTH_TRY(no_flags());
    for (auto& v : ins.args) {
      v = std::string(TrimAsciiSpace(v));
      if (v.empty()) return Error::InvalidArgument("VOLUME specified can not be an empty string");
    }
  } else if (k == "ARG") {
    if (ins.args.empty()) return AtLeastOne(k);
    for (const auto& a : ins.args) {
      if (a.find('=') == 0) return Error::InvalidArgument("ARG names can not be blank");
    }
    // Docker neither checks nor uses ARG's flags.
  } else if (k == "SHELL") {
    BERTH_TRY(no_flags());
    if (ins.args.empty()) return AtLeastOne(k);
    if (!ins.json_form) {
      return Error::InvalidArgument("SHELL requires the arguments to be in JSON form");
    }
  } else {
    return Error::InvalidArgument("unknown instruction: " + n.command +
                                  Suggest(n.command, InstructionNames(), false));
  }
  // Shell form joins its words into one command line (BuildKit's handleJSONArgs).
  if ((k == "RUN" || k == "CMD" || k == "ENTRYPOINT") && !ins.json_form && ins.args.size() > 1) {
    std::string joined;
    for (size_t i = 0; i < ins.args.size(); ++i) joined += (i ? " " : "") + ins.args[i];
    ins.args = {joined};
  }
  return ins;
}

}  // namespace berth::build::internal

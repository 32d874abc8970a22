#include "build/dockerfile/dockerfile.h"

#include <cctype>

#include "build/dockerfile/parser_internal.h"

namespace berth::build {

const Flag* Instruction::FindFlag(std::string_view name) const {
  const Flag* found = nullptr;
  for (const auto& f : flags) {
    if (f.name == name) found = &f;
  }
  return found;
}

std::vector<std::string> Instruction::FlagValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& f : flags) {
    if (f.name == name) out.push_back(f.value);
  }
  return out;
}

bool Instruction::FlagTrue(std::string_view name) const {
  const Flag* f = FindFlag(name);
  return f && f->value == "true";
}

std::vector<ArgDef> SplitArgs(const Instruction& arg) {
  std::vector<ArgDef> out;
  for (const auto& a : arg.args) {
    auto eq = a.find('=');
    if (eq == std::string::npos) {
      out.push_back({a, std::nullopt});
    } else {
      out.push_back({a.substr(0, eq), a.substr(eq + 1)});
    }
  }
  return out;
}

bool IsHeredocMarker(std::string_view word) {
  auto h = internal::ParseHeredocWord(word);
  return h && h->has_value();
}

const Heredoc* HeredocFor(const Instruction& ins, std::string_view word) {
  auto h = internal::ParseHeredocWord(word);
  if (!h || !h->has_value()) return nullptr;
  for (const auto& doc : ins.heredocs) {
    if (doc.name == (*h)->name) return &doc;
  }
  return nullptr;
}

namespace {

Error LineError(const internal::RawNode& n, const Error& e) {
  return Error::InvalidArgument("dockerfile parse error on line " + std::to_string(n.start_line) +
                                ": " + e.message());
}

}  // namespace

Result<Dockerfile> ParseDockerfile(std::string_view text, std::string_view file_name) {
  auto raw = internal::ParseLines(text);
  if (!raw) {
    return Error::InvalidArgument("failed to parse " + std::string(file_name) + ": " +
                                  raw.error().message());
  }
  Dockerfile df;
  df.escape = raw->escape;
  df.syntax = raw->syntax;
  df.warnings = raw->warnings;
  for (const auto& node : raw->nodes) {
    auto ins = internal::ConvertNode(node);
    if (!ins) return LineError(node, ins.error());
    if (ins->keyword == "FROM") {
      Stage s;
      s.index = static_cast<int>(df.stages.size());
      s.base = ins->args[0];
      if (ins->args.size() == 3) {
        s.name = ins->args[2];
        for (char& c : s.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (const Flag* p = ins->FindFlag("platform")) s.platform = p->value;
      s.from = std::move(*ins);
      df.stages.push_back(std::move(s));
      continue;
    }
    if (df.stages.empty()) {
      if (ins->keyword == "ARG") {
        df.meta_args.push_back(std::move(*ins));
        continue;
      }
      return Error::InvalidArgument("no build stage in current context");
    }
    df.stages.back().instructions.push_back(std::move(*ins));
  }
  if (df.stages.empty()) {
    return Error::InvalidArgument("No image was generated. Is your Dockerfile empty?");
  }
  return df;
}

Result<Instruction> ParseInstructionLine(std::string_view line, char escape) {
  std::string text;
  if (escape != '\\') text = std::string("# escape=") + escape + "\n";
  text += line;
  auto raw = internal::ParseLines(text);
  if (!raw) return std::move(raw).error();
  if (raw->nodes.size() != 1) {
    return Error::InvalidArgument("onbuild trigger should be a single expression");
  }
  auto ins = internal::ConvertNode(raw->nodes[0]);
  if (!ins) return LineError(raw->nodes[0], ins.error());
  if (ins->keyword == "FROM") {
    return Error::InvalidArgument("*instructions.Stage is not a command type");
  }
  if (escape != '\\') {
    ins->line -= 1;
    ins->end_line -= 1;
  }
  return ins;
}

}  // namespace berth::build

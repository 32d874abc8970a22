// Builder::Build: the classic builder's executor. Stages the target needs run level by level
// (stages of one level in parallel threads); each instruction is one step: looked up in the
// cache by its key, else dispatched (metadata → an image with an empty_layer entry; COPY/ADD →
// a layer tar from the sources; RUN → the StepRunner) and recorded.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "build/cache.h"
#include "build/copy.h"
#include "build/dockerfile/dockerfile.h"
#include "build/dockerfile/dockerignore.h"
#include "build/dockerfile/expand.h"
#include "build/dockerfile/stages.h"
#include "build/executor_internal.h"
#include "build/file_tree.h"
#include "image/image_commit.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::build {
namespace {

using internal::NopCreatedBy;

/// Serializes the output of parallel stages: the first stage of a level writes through, the
/// others buffer and flush when they end, so each stage's lines stay together.
class Out {
 public:
  Out(BuildOutput& out, bool quiet) : out_(out), quiet_(quiet) {}
  void Write(std::string_view s, std::string* buffer) {
    if (quiet_) return;
    if (buffer) {
      buffer->append(s);
      return;
    }
    std::lock_guard lock(mu_);
    out_.Stream(s);
  }
  void Flush(std::string* buffer) {
    if (buffer && !buffer->empty()) Write(*buffer, nullptr);
    if (buffer) buffer->clear();
  }
  void Aux(const nlohmann::json& j) {
    std::lock_guard lock(mu_);
    out_.Aux(j);
  }

 private:
  BuildOutput& out_;
  bool quiet_;
  std::mutex mu_;
};

struct StageResult {
  std::string image_id;  // "" = scratch
};

struct State {
  std::string image_id;
  oci::ContainerConfig cc;
  std::map<std::string, std::string> args;  // ARGs declared in the stage, with their value
  std::vector<std::string> shell = {"/bin/sh", "-c"};
  bool cmd_set = false;  // CMD given in this stage (ENTRYPOINT then keeps it)
};

class Run {
 public:
  Run(image::ImageService& images, StepRunner& runner, BuildCache& cache, FileHashCache& hashes,
      const BuildOptions& o, Out& out, const Dockerfile& df, const BuildPlan& plan,
      const DockerIgnore& ignore)
      : images_(images),
        runner_(runner),
        cache_(cache),
        hashes_(hashes),
        o_(o),
        out_(out),
        df_(df),
        plan_(plan),
        context_(o.context_dir, &ignore) {}

  Result<std::string> Stage(int index, int first_step, int total, std::string* buf);
  std::map<int, StageResult> results;  // written before a later level reads it
  std::mutex results_mu;

 private:
  Result<void> Step(State& s, const Instruction& ins, int step, int total, std::string* buf);
  // An image on s's with s.cc as its config and one more history entry: with no layer, or
  // with layer_tar (size bytes) as its new layer; recorded in the cache under key.
  Result<std::string> Commit(State& s, const std::string& created_by, const std::string& key,
                             const std::string& description,
                             std::function<Result<size_t>(char*, size_t)> layer_tar = {},
                             int64_t size = 0);
  Result<std::vector<std::string>> Layers(const std::string& image_id);
  Result<image::Image> GetOrPull(const std::string& ref, std::string* buf);
  Result<std::string> Expand(const State& s, std::string_view word);
  EnvLookup Lookup(const State& s);
  Result<void> Copy(State& s, const Instruction& ins, const std::string& key_text, std::string* buf,
                    bool* cached);
  Result<void> CommitLayer(State& s, const CopyPlan& plan, const CopyRequest& r,
                           const std::string& created_by, const std::string& key,
                           const std::string& description);
  thread_local static int current_stage_;

  image::ImageService& images_;
  StepRunner& runner_;
  BuildCache& cache_;
  FileHashCache& hashes_;
  const BuildOptions& o_;
  Out& out_;
  const Dockerfile& df_;
  const BuildPlan& plan_;
  DirTree context_;
};

thread_local int Run::current_stage_ = 0;

std::string Short(const std::string& id) {
  auto d = oci::Digest::Parse(id);
  return d ? std::string(d->short_hex()) : id.substr(0, 12);
}

EnvLookup Run::Lookup(const State& s) {
  return [&s](std::string_view name) -> std::optional<std::string> {
    std::string k(name);
    for (auto it = s.cc.env.rbegin(); it != s.cc.env.rend(); ++it)
      if (it->compare(0, k.size() + 1, k + "=") == 0) return it->substr(k.size() + 1);
    if (auto a = s.args.find(k); a != s.args.end()) return a->second;
    return std::nullopt;
  };
}

Result<std::string> Run::Expand(const State& s, std::string_view word) {
  return ExpandWord(word, Lookup(s), df_.escape);
}

Result<std::vector<std::string>> Run::Layers(const std::string& image_id) {
  if (image_id.empty()) return std::vector<std::string>{};
  image::Image img = BERTH_TRY(images_.Get(image_id));
  std::vector<std::string> dirs;
  if (auto u = img.graph_driver.find("UpperDir"); u != img.graph_driver.end())
    dirs.push_back(u->second);
  if (auto l = img.graph_driver.find("LowerDir"); l != img.graph_driver.end())
    for (auto& d : Split(l->second, ':', true)) dirs.push_back(d);
  return dirs;
}

Result<image::Image> Run::GetOrPull(const std::string& ref, std::string* buf) {
  auto img = images_.Get(ref);
  if (img || !img.error().IsNotFound()) return img;
  if (!o_.pull) {
    return Error::NotFound("pull access denied for " + ref +
                           ", repository does not exist or may require 'docker login'");
  }
  struct Buffered : BuildOutput {
    Out* out;
    std::string* buf;
    void Stream(std::string_view t) override { out->Write(t, buf); }
    void Aux(const nlohmann::json&) override {}
  } sink;
  sink.out = &out_;
  sink.buf = buf;
  BERTH_TRY(o_.pull(ref, sink));
  return images_.Get(ref);
}

Result<std::string> Run::Commit(State& s, const std::string& created_by, const std::string& key,
                                const std::string& description,
                                std::function<Result<size_t>(char*, size_t)> layer_tar,
                                int64_t size) {
  image::CommitOptions c;
  if (!s.image_id.empty()) c.parent = BERTH_TRY(oci::Digest::Parse(s.image_id));
  c.config = s.cc;
  c.container_config = s.cc;
  c.exact_config = true;
  c.created_by = created_by;
  c.no_layer = !layer_tar;
  c.layer_tar = std::move(layer_tar);
  oci::Digest id = BERTH_TRY(images_.Commit(c));
  BERTH_TRY(cache_.Put({.id = key,
                        .parent = s.image_id,
                        .description = description,
                        .image_id = id.str(),
                        .size = size}));
  return id.str();
}

Result<std::string> Run::Stage(int index, int first_step, int total, std::string* buf) {
  const build::Stage& st = df_.stages[index];
  const StagePlan& sp = plan_.stages[index];
  State s;
  current_stage_ = index;
  out_.Write("Step " + std::to_string(first_step) + "/" + std::to_string(total) + " : " +
                 st.from.original + "\n",
             buf);
  if (sp.base_stage) {
    std::lock_guard lock(results_mu);
    s.image_id = results.at(*sp.base_stage).image_id;
  } else if (sp.base_image != "scratch") {
    image::Image img = BERTH_TRY(GetOrPull(sp.base_image, buf));
    s.image_id = img.record.id.str();
  }
  if (!s.image_id.empty()) {
    image::Image img = BERTH_TRY(images_.Get(s.image_id));
    if (img.config.config.config) s.cc = *img.config.config.config;
    if (!s.cc.shell.empty()) s.shell = s.cc.shell;
    out_.Write(" ---> " + Short(s.image_id) + "\n", buf);
  } else {
    out_.Write(" ---> \n", buf);
  }
  // ONBUILD triggers of the base run first, then are dropped from the config.
  std::vector<std::string> triggers = std::move(s.cc.on_build);
  s.cc.on_build.clear();
  if (!triggers.empty())
    out_.Write("# Executing " + std::to_string(triggers.size()) + " build trigger" +
                   (triggers.size() == 1 ? "" : "s") + "\n",
               buf);
  for (const auto& t : triggers) {
    Instruction ins = BERTH_TRY(ParseInstructionLine(t, df_.escape));
    BERTH_TRY(Step(s, ins, 0, total, buf));
  }
  int n = first_step;
  for (const auto& ins : st.instructions) BERTH_TRY(Step(s, ins, ++n, total, buf));
  if (index == plan_.target && !o_.labels.empty()) {
    std::string text = "LABEL";
    for (const auto& [k, v] : o_.labels) {
      s.cc.labels[k] = v;
      text += " \"" + k + "\"=\"" + v + "\"";
    }
    std::string created_by = NopCreatedBy(text);
    std::string key = CacheKey({.parent = s.image_id, .instruction = created_by, .env = s.cc.env});
    s.image_id = BERTH_TRY(Commit(s, created_by, key, text));
  }
  if (s.image_id.empty()) {  // FROM scratch and nothing else: still an image
    s.image_id = BERTH_TRY(Commit(s, "", CacheKey({.instruction = "scratch"}), "scratch"));
  }
  return s.image_id;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}

void SetEnv(std::vector<std::string>* env, const std::string& k, const std::string& v) {
  for (auto& e : *env)
    if (e.compare(0, k.size() + 1, k + "=") == 0) {
      e = k + "=" + v;
      return;
    }
  env->push_back(k + "=" + v);
}

void AddSorted(std::vector<std::string>* into, const std::string& v) {
  if (std::find(into->begin(), into->end(), v) == into->end()) into->push_back(v);
  std::sort(into->begin(), into->end());
}

std::vector<std::string> ArgEnv(const State& s) {
  std::vector<std::string> e;
  for (const auto& [k, v] : s.args) e.push_back(k + "=" + v);
  return e;
}

Result<void> Run::Step(State& s, const Instruction& ins, int step, int total, std::string* buf) {
  if (step > 0)
    out_.Write(
        "Step " + std::to_string(step) + "/" + std::to_string(total) + " : " + ins.original + "\n",
        buf);
  const std::string& kw = ins.keyword;
  std::string text;  // the created_by of a metadata step, without the nop prefix
  if (kw == "COPY" || kw == "ADD") {
    bool cached = false;
    return Copy(s, ins, "", buf, &cached);
  }
  if (kw == "RUN") {
    if (!ins.FlagValues("mount").empty())
      return Error::InvalidArgument(
          "the --mount option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ "
          "to learn how to build images with BuildKit enabled");
    std::vector<std::string> args;
    if (ins.json_form) {
      args = ins.args;
    } else {
      std::string cmd = ins.args.empty() ? "" : ins.args[0];
      if (!ins.heredocs.empty()) {
        if (std::string(Trim(cmd)) == "<<" + ins.heredocs[0].name ||
            IsHeredocMarker(std::string(Trim(cmd)))) {
          cmd = ins.heredocs[0].content;
        } else {
          for (const auto& h : ins.heredocs) cmd += "\n" + h.content + h.name;
        }
      }
      args = s.shell;
      args.push_back(cmd);
    }
    std::vector<std::string> build_env = internal::RunBuildEnv(s.args, s.cc.env);
    std::string created_by = internal::RunCreatedBy(build_env, Joined(args));
    std::string key = CacheKey({.parent = s.image_id, .instruction = created_by, .env = s.cc.env});
    if (!o_.no_cache) {
      if (auto hit = cache_.Lookup(key); hit && images_.Get(hit->image_id)) {
        cache_.Touch(key);
        s.image_id = hit->image_id;
        out_.Write(" ---> Using cache\n ---> " + Short(s.image_id) + "\n", buf);
        return {};
      }
    }
    StepRunner::Run r;
    r.image_id = s.image_id;
    r.args = args;
    r.env = s.cc.env;
    for (const auto& e : build_env) r.env.push_back(e);
    r.user = s.cc.user;
    r.working_dir = s.cc.working_dir;
    r.network_mode = o_.network_mode;
    if (const Flag* net = ins.FindFlag("network"); net && net->value != "default")
      r.network_mode = net->value;
    r.remove = o_.remove_intermediate;
    r.force_remove = o_.force_remove;
    r.output = [&](std::string_view t) { out_.Write(t, buf); };
    r.started = [&](std::string_view id) {
      out_.Write(" ---> Running in " + std::string(id) + "\n", buf);
    };
    std::string removed;
    auto id = runner_.RunAndCommit(r, s.cc, created_by, &removed);
    if (!removed.empty()) out_.Write("Removing intermediate container " + removed + "\n", buf);
    if (!id) return std::move(id).error();
    int64_t size = 0;
    if (auto img = images_.Get(id->str()); img && !s.image_id.empty()) {
      if (auto parent = images_.Get(s.image_id)) size = img->record.size - parent->record.size;
    }
    BERTH_TRY(cache_.Put({.id = key,
                          .parent = s.image_id,
                          .description = ins.original,
                          .image_id = id->str(),
                          .size = size}));
    s.image_id = id->str();
    out_.Write(" ---> " + Short(s.image_id) + "\n", buf);
    return {};
  }
  std::optional<CopyPlan> mkdir;  // WORKDIR's new directories
  if (kw == "ENV") {
    text = "ENV";
    for (size_t i = 0; i + 1 < ins.args.size(); i += 2) {
      std::string k = BERTH_TRY(Expand(s, ins.args[i]));
      std::string v = BERTH_TRY(Expand(s, ins.args[i + 1]));
      SetEnv(&s.cc.env, k, v);
      text += " " + k + "=" + v;
    }
  } else if (kw == "LABEL") {
    text = "LABEL";
    for (size_t i = 0; i + 1 < ins.args.size(); i += 2) {
      std::string k = BERTH_TRY(Expand(s, ins.args[i]));
      std::string v = BERTH_TRY(Expand(s, ins.args[i + 1]));
      s.cc.labels[k] = v;
      text += " " + k + "=" + v;
    }
  } else if (kw == "ARG") {
    text = "ARG";
    for (const ArgDef& a : SplitArgs(ins)) {
      std::string name = BERTH_TRY(Expand(s, a.name));
      std::optional<std::string> value;
      if (auto b = o_.build_args.find(name); b != o_.build_args.end()) {
        value = b->second;
      } else if (a.default_value) {
        value = BERTH_TRY(Expand(s, *a.default_value));
      } else if (auto m = plan_.meta_args.find(name); m != plan_.meta_args.end()) {
        value = m->second;
      }
      if (value) s.args[name] = *value;
      text += " " + name + (a.default_value ? "=" + *a.default_value : "");
    }
  } else if (kw == "EXPOSE") {
    text = "EXPOSE";
    for (const auto& a : ins.args) {
      for (const auto& p : BERTH_TRY(ExpandWords(a, Lookup(s), df_.escape))) {
        AddSorted(&s.cc.exposed_ports, p.find('/') == std::string::npos ? p + "/tcp" : p);
        text += " " + p;
      }
    }
  } else if (kw == "CMD" || kw == "ENTRYPOINT") {
    std::vector<std::string> v = ins.args;
    if (!ins.json_form) {
      v = s.shell;
      v.push_back(ins.args.empty() ? "" : ins.args[0]);
    }
    if (kw == "CMD") {
      s.cc.cmd = v;
      s.cmd_set = true;
    } else {
      s.cc.entrypoint = v;
      if (!s.cmd_set) s.cc.cmd.reset();
    }
    text = kw + " " + internal::QuotedList(v);
  } else if (kw == "VOLUME") {
    std::vector<std::string> vols;
    for (const auto& a : ins.args) {
      std::string v = BERTH_TRY(Expand(s, a));
      if (v.empty()) return Error::InvalidArgument("VOLUME specified can not be an empty string");
      vols.push_back(v);
      AddSorted(&s.cc.volumes, v);
    }
    text = "VOLUME " + internal::PlainList(vols);
  } else if (kw == "USER") {
    s.cc.user = BERTH_TRY(Expand(s, ins.args.at(0)));
    text = "USER " + s.cc.user;
  } else if (kw == "WORKDIR") {
    std::string d = BERTH_TRY(Expand(s, ins.args.at(0)));
    if (d.empty() || d[0] != '/')
      d = JoinPath(s.cc.working_dir.empty() ? "/" : s.cc.working_dir, d);
    s.cc.working_dir = CleanAbs(d);
    text = "WORKDIR " + s.cc.working_dir;
    LayerTree tree(BERTH_TRY(Layers(s.image_id)));
    CopyPlan p = PlanMkdir(tree, s.cc.working_dir);
    if (!p.parents.empty()) mkdir = std::move(p);
  } else if (kw == "STOPSIGNAL") {
    s.cc.stop_signal = BERTH_TRY(Expand(s, ins.args.at(0)));
    text = "STOPSIGNAL " + s.cc.stop_signal;
  } else if (kw == "SHELL") {
    s.shell = ins.args;
    s.cc.shell = ins.args;
    text = "SHELL " + internal::PlainList(ins.args);
  } else if (kw == "HEALTHCHECK") {
    if (!ins.healthcheck) return Error::InvalidArgument("HEALTHCHECK: missing its parsed form");
    const Healthcheck& h = *ins.healthcheck;
    oci::HealthConfig hc;
    hc.test = h.test;
    hc.interval = h.interval_ns;
    hc.timeout = h.timeout_ns;
    hc.start_period = h.start_period_ns;
    hc.start_interval = h.start_interval_ns;
    hc.retries = h.retries;
    s.cc.healthcheck = hc;
    text = "HEALTHCHECK &{" + internal::QuotedList(h.test) + " \"" +
           std::to_string(h.interval_ns / 1000000000) + "s\" \"" +
           std::to_string(h.timeout_ns / 1000000000) + "s\" \"" +
           std::to_string(h.start_period_ns / 1000000000) + "s\" \"" +
           std::to_string(h.start_interval_ns / 1000000000) + "s\" '\\x" +
           (h.retries < 16 ? "0" : "") + fmt::format("{:x}", h.retries) + "'}";
  } else if (kw == "ONBUILD") {
    std::string t = ins.args.empty() ? "" : ins.args[0];
    s.cc.on_build.push_back(t);
    text = "ONBUILD " + t;
  } else if (kw == "MAINTAINER") {
    text = "MAINTAINER " + (ins.args.empty() ? std::string() : ins.args[0]);
  } else {
    return Error::InvalidArgument("dockerfile parse error on line " + std::to_string(ins.line) +
                                  ": unknown instruction: " + kw);
  }
  std::string created_by = NopCreatedBy(text);
  std::vector<std::string> env = s.cc.env;
  for (auto& e : ArgEnv(s)) env.push_back("arg:" + e);
  std::string key =
      CacheKey({.parent = s.image_id,
                .instruction = created_by,
                .env = env,
                .sources = internal::QuotedList(s.cc.shell) + (s.cmd_set ? "1" : "0")});
  if (!o_.no_cache) {
    if (auto hit = cache_.Lookup(key); hit && images_.Get(hit->image_id)) {
      cache_.Touch(key);
      s.image_id = hit->image_id;
      out_.Write(" ---> Using cache\n ---> " + Short(s.image_id) + "\n", buf);
      return {};
    }
  }
  if (mkdir) {
    BERTH_TRY(CommitLayer(s, *mkdir, CopyRequest{}, created_by, key, ins.original));
  } else {
    s.image_id = BERTH_TRY(Commit(s, created_by, key, ins.original));
  }
  out_.Write(" ---> " + Short(s.image_id) + "\n", buf);
  return {};
}

Result<void> Run::CommitLayer(State& s, const CopyPlan& plan, const CopyRequest& r,
                              const std::string& created_by, const std::string& key,
                              const std::string& description) {
  Fd tmp = BERTH_TRY_CTX(Fd::Open(cache_.dir(), O_TMPFILE | O_RDWR, 0600), "layer tar");
  int64_t bytes = BERTH_TRY(WriteCopyLayer(plan, r, tmp.get()));
  if (::lseek(tmp.get(), 0, SEEK_SET) < 0) return Error::FromErrno(errno, "seek layer tar");
  int fd = tmp.get();
  auto layer_tar = [fd](char* p, size_t n) -> Result<size_t> {
    for (;;) {
      ssize_t got = ::read(fd, p, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Error::FromErrno(errno, "read layer tar");
      return static_cast<size_t>(got);
    }
  };
  s.image_id = BERTH_TRY(Commit(s, created_by, key, description, layer_tar, bytes));
  return {};
}

Result<void> Run::Copy(State& s, const Instruction& ins, const std::string&, std::string* buf,
                       bool*) {
  const std::string& kw = ins.keyword;
  if (ins.args.size() < 2)
    return Error::InvalidArgument(kw + " requires at least two arguments, but only " +
                                  std::to_string(ins.args.size()) + " provided");
  CopyRequest r;
  r.keyword = kw;
  r.extract_archives = kw == "ADD";
  r.working_dir = s.cc.working_dir.empty() ? "/" : s.cc.working_dir;
  for (size_t i = 0; i + 1 < ins.args.size(); ++i) {
    if (const Heredoc* h = HeredocFor(ins, ins.args[i])) {
      r.inline_files[h->name] =
          h->expand ? BERTH_TRY(ExpandHeredoc(h->content, Lookup(s))) : h->content;
      continue;
    }
    r.sources.push_back(BERTH_TRY(Expand(s, ins.args[i])));
  }
  r.dest = BERTH_TRY(Expand(s, ins.args.back()));
  // The tree the sources come from: the context, a stage, or an image.
  std::unique_ptr<LayerTree> from_tree;
  std::string from_id;
  if (const Flag* f = ins.FindFlag("from"); f && !f->value.empty()) {
    if (auto st = FindStage(df_, f->value, current_stage_, true)) {
      std::lock_guard lock(results_mu);
      auto it = results.find(*st);
      if (it == results.end())
        return Error::Internal("stage " + f->value + " was not built before its use");
      from_id = it->second.image_id;
    } else {
      from_id = BERTH_TRY(GetOrPull(f->value, buf)).record.id.str();
    }
    from_tree = std::make_unique<LayerTree>(BERTH_TRY(Layers(from_id)));
  }
  LayerTree target(BERTH_TRY(Layers(s.image_id)));
  if (const Flag* f = ins.FindFlag("chown"); f && !f->value.empty()) {
    auto ids = BERTH_TRY(ResolveChown(target, BERTH_TRY(Expand(s, f->value))));
    r.uid = ids.first;
    r.gid = ids.second;
  }
  if (const Flag* f = ins.FindFlag("chmod"); f && !f->value.empty()) {
    std::string v = BERTH_TRY(Expand(s, f->value));
    char* end = nullptr;
    unsigned long m = std::strtoul(v.c_str(), &end, 8);
    if (v.empty() || *end != '\0' || m > 07777)
      return Error::InvalidArgument("invalid chmod parameter: " + v);
    r.chmod = static_cast<uint32_t>(m);
  }
  const FileTree& source = from_tree ? static_cast<const FileTree&>(*from_tree) : context_;
  CopyPlan plan = BERTH_TRY(PlanCopy(source, target, r));
  std::string digest = BERTH_TRY(SourcesDigest(plan, r, &hashes_));
  std::string kind = plan.items.size() == 1 && S_ISREG(plan.items[0].st.st_mode) ? "file"
                     : r.sources.size() + r.inline_files.size() == 1             ? "dir"
                                                                                 : "multi";
  std::string dest = r.dest;
  std::string created_by =
      "/bin/sh -c #(nop) " + kw + " " + kind + ":" + digest + " in " + dest + " ";
  std::string flags;
  for (const auto& f : ins.flags) flags += " --" + f.name + "=" + f.value;
  std::string key = CacheKey({.parent = s.image_id,
                              .instruction = created_by + flags + " from:" + from_id,
                              .env = {r.working_dir},
                              .sources = digest});
  if (!o_.no_cache) {
    if (auto hit = cache_.Lookup(key); hit && images_.Get(hit->image_id)) {
      cache_.Touch(key);
      s.image_id = hit->image_id;
      out_.Write(" ---> Using cache\n ---> " + Short(s.image_id) + "\n", buf);
      return {};
    }
  }
  BERTH_TRY(CommitLayer(s, plan, r, created_by, key, ins.original));
  out_.Write(" ---> " + Short(s.image_id) + "\n", buf);
  return {};
}

}  // namespace

Result<oci::Digest> Builder::Build(const BuildOptions& o, BuildOutput& output) {
  Out out(output, o.quiet);
  if (o.context_dir.empty()) return Error::InvalidArgument("build: no context");
  DirTree raw(o.context_dir, nullptr);
  std::string df_path =
      BERTH_TRY(ResolveInTree(raw, CleanAbs("/" + o.dockerfile), true, o.dockerfile));
  auto df_entry = raw.Lstat(df_path);
  if (!df_entry || !S_ISREG(df_entry->st.st_mode))
    return Error::InvalidArgument("Cannot locate specified Dockerfile: " + o.dockerfile);
  std::string text = BERTH_TRY(ReadFile(df_entry->host_path, 16 << 20));
  Dockerfile df = BERTH_TRY(ParseDockerfile(text, o.dockerfile));
  DockerIgnore ignore;
  if (auto ig = raw.Lstat("/.dockerignore"); ig && S_ISREG(ig->st.st_mode)) {
    ignore = BERTH_TRY(DockerIgnore::Parse(BERTH_TRY(ReadFile(ig->host_path, 4 << 20))));
    ignore.AlwaysInclude(df_path.substr(1));
    ignore.AlwaysInclude(".dockerignore");
  }
  BuildPlan plan = BERTH_TRY(PlanStages(df, o.build_args, o.target));
  // Step numbers: the stages in order, FROM counted.
  std::map<int, int> first_step;
  int total = 0;
  for (int i : plan.order) {
    first_step[i] = total + 1;
    total += 1 + static_cast<int>(df.stages[i].instructions.size());
  }
  if (!o.labels.empty()) ++total;
  Run run(images_, runner_, *cache_, *hashes_, o, out, df, plan, ignore);
  for (const auto& level : plan.levels) {
    std::vector<Result<std::string>> results(level.size(), Error::Internal("stage did not run"));
    std::vector<std::string> buffers(level.size());
    std::vector<std::thread> threads;
    for (size_t k = 1; k < level.size(); ++k)
      threads.emplace_back(
          [&, k] { results[k] = run.Stage(level[k], first_step[level[k]], total, &buffers[k]); });
    results[0] = run.Stage(level[0], first_step[level[0]], total, nullptr);
    for (auto& t : threads) t.join();
    for (size_t k = 1; k < level.size(); ++k) out.Flush(&buffers[k]);
    for (size_t k = 0; k < level.size(); ++k) {
      if (!results[k]) return std::move(results[k]).error();
      std::lock_guard lock(run.results_mu);
      run.results[level[k]] = {*results[k]};
    }
  }
  std::string final_id = run.results.at(plan.target).image_id;
  oci::Digest id = BERTH_TRY(oci::Digest::Parse(final_id));
  out.Write("Successfully built " + std::string(id.short_hex()) + "\n", nullptr);
  for (const auto& t : o.tags) {
    BERTH_TRY(images_.Tag(id.str(), t));
    out.Write("Successfully tagged " + t + "\n", nullptr);
  }
  out.Aux({{"ID", id.str()}});
  return id;
}

}  // namespace berth::build

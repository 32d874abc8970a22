#include "oci/image.h"

#include <algorithm>
#include <limits>
#include <set>
#include "oci/json_reader_internal.h"

#include "oci/media_types.h"
#include "util/sha256.h"

namespace berth::oci {
namespace {

using internal::json;
using ojson = nlohmann::ordered_json;

using internal::Reader;

Result<json> ParseJson(std::string_view text, std::string_view what) {
  return internal::ParseJsonObject(text, what, {kMaxDocumentBytes, kMaxJsonDepth, true});
}

Result<Platform> ReadPlatform(const Reader& r) {
  Platform p;
  BERTH_TRY(r.RequiredString("architecture", &p.architecture));
  BERTH_TRY(r.RequiredString("os", &p.os));
  BERTH_TRY(r.String("os.version", &p.os_version));
  BERTH_TRY(r.Strings("os.features", &p.os_features));
  BERTH_TRY(r.String("variant", &p.variant));
  return p;
}

Result<Descriptor> ReadDescriptor(const Reader& r) {
  Descriptor d;
  BERTH_TRY(r.RequiredString("mediaType", &d.media_type));
  std::string digest;
  BERTH_TRY(r.RequiredString("digest", &digest));
  d.digest = BERTH_TRY_CTX(Digest::Parse(digest), r.Child("digest"));
  BERTH_TRY(r.Size("size", &d.size));
  BERTH_TRY(r.Strings("urls", &d.urls));
  BERTH_TRY(r.StringMap("annotations", &d.annotations));
  BERTH_TRY(r.Object("platform", [&](const Reader& p) -> Result<void> {
    d.platform = BERTH_TRY(ReadPlatform(p));
    return {};
  }));
  BERTH_TRY(r.String("artifactType", &d.artifact_type));
  return d;
}

Result<void> ReadDescriptorAt(const Reader& r, std::string_view key, Descriptor* out) {
  BERTH_TRY(r.Required(key));
  return r.Object(key, [&](const Reader& d) -> Result<void> {
    *out = BERTH_TRY(ReadDescriptor(d));
    return {};
  });
}

Result<void> ReadDescriptors(const Reader& r, std::string_view key, std::vector<Descriptor>* out) {
  return r.Array(key, [&](const Reader& d) -> Result<void> {
    out->push_back(BERTH_TRY(ReadDescriptor(d)));
    return {};
  });
}

Result<int> ReadSchemaVersion(const Reader& r) {
  int64_t v = 0;
  BERTH_TRY(r.Required("schemaVersion"));
  BERTH_TRY(r.Int("schemaVersion", &v));
  if (v == 1) return r.Fail("schemaVersion", "docker image manifest schema 1 is not supported");
  if (v != 2) return r.Fail("schemaVersion", "unsupported version " + std::to_string(v));
  return 2;
}

Result<ContainerConfig> ReadContainerConfig(const Reader& r) {
  ContainerConfig c;
  BERTH_TRY(r.String("User", &c.user));
  BERTH_TRY(r.KeySet("ExposedPorts", &c.exposed_ports));
  BERTH_TRY(r.Strings("Env", &c.env));
  BERTH_TRY(r.StrSlice("Entrypoint", &c.entrypoint));
  BERTH_TRY(r.StrSlice("Cmd", &c.cmd));
  BERTH_TRY(r.KeySet("Volumes", &c.volumes));
  BERTH_TRY(r.String("WorkingDir", &c.working_dir));
  BERTH_TRY(r.StringMap("Labels", &c.labels));
  BERTH_TRY(r.String("StopSignal", &c.stop_signal));
  BERTH_TRY(r.Bool("ArgsEscaped", &c.args_escaped));
  BERTH_TRY(r.Object("Healthcheck", [&](const Reader& h) -> Result<void> {
    HealthConfig hc;
    BERTH_TRY(h.Strings("Test", &hc.test));
    BERTH_TRY(h.Int("Interval", &hc.interval));
    BERTH_TRY(h.Int("Timeout", &hc.timeout));
    BERTH_TRY(h.Int("StartPeriod", &hc.start_period));
    BERTH_TRY(h.Int("StartInterval", &hc.start_interval));
    BERTH_TRY(h.Int("Retries", &hc.retries));
    c.healthcheck = std::move(hc);
    return {};
  }));
  BERTH_TRY(r.Strings("OnBuild", &c.on_build));
  BERTH_TRY(r.Strings("Shell", &c.shell));
  BERTH_TRY(r.String("Hostname", &c.hostname));
  BERTH_TRY(r.String("Domainname", &c.domainname));
  BERTH_TRY(r.Bool("AttachStdin", &c.attach_stdin));
  BERTH_TRY(r.Bool("AttachStdout", &c.attach_stdout));
  BERTH_TRY(r.Bool("AttachStderr", &c.attach_stderr));
  BERTH_TRY(r.Bool("Tty", &c.tty));
  BERTH_TRY(r.Bool("OpenStdin", &c.open_stdin));
  BERTH_TRY(r.Bool("StdinOnce", &c.stdin_once));
  BERTH_TRY(r.String("Image", &c.image));
  BERTH_TRY(r.Bool("NetworkDisabled", &c.network_disabled));
  BERTH_TRY(r.String("MacAddress", &c.mac_address));
  if (r.Find("StopTimeout")) {
    int64_t t = 0;
    BERTH_TRY(r.Int("StopTimeout", &t));
    c.stop_timeout = t;
  }
  return c;
}

constexpr std::string_view kConfigFields[] = {"created",    "author",      "architecture", "os",
                                              "os.version", "os.features", "variant",      "config",
                                              "rootfs",     "history"};

std::string Dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

ojson PlatformJson(const Platform& p) {
  ojson j = ojson::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

ojson DescriptorJson(const Descriptor& d) {
  ojson j = ojson::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = PlatformJson(*d.platform);
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

ojson DescriptorsJson(const std::vector<Descriptor>& list) {
  ojson a = ojson::array();
  for (const auto& d : list) a.push_back(DescriptorJson(d));
  return a;
}

ojson KeySetJson(const std::vector<std::string>& keys) {
  ojson o = ojson::object();
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& k : sorted) o[k] = ojson::object();
  return o;
}

ojson ContainerConfigJson(const ContainerConfig& c) {
  ojson j = ojson::object();
  if (!c.user.empty()) j["User"] = c.user;
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = KeySetJson(c.exposed_ports);
  if (!c.env.empty()) j["Env"] = c.env;
  if (c.entrypoint) j["Entrypoint"] = *c.entrypoint;
  if (c.cmd) j["Cmd"] = *c.cmd;
  if (!c.volumes.empty()) j["Volumes"] = KeySetJson(c.volumes);
  if (!c.working_dir.empty()) j["WorkingDir"] = c.working_dir;
  if (!c.labels.empty()) j["Labels"] = c.labels;
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  if (c.args_escaped) j["ArgsEscaped"] = true;
  if (c.healthcheck) {
    const HealthConfig& h = *c.healthcheck;
    ojson hj = ojson::object();
    hj["Test"] = h.test;
    if (h.interval) hj["Interval"] = h.interval;
    if (h.timeout) hj["Timeout"] = h.timeout;
    if (h.start_period) hj["StartPeriod"] = h.start_period;
    if (h.start_interval) hj["StartInterval"] = h.start_interval;
    if (h.retries) hj["Retries"] = h.retries;
    j["Healthcheck"] = std::move(hj);
  }
  if (!c.on_build.empty()) j["OnBuild"] = c.on_build;
  if (!c.shell.empty()) j["Shell"] = c.shell;
  if (!c.hostname.empty()) j["Hostname"] = c.hostname;
  if (!c.domainname.empty()) j["Domainname"] = c.domainname;
  if (c.attach_stdin) j["AttachStdin"] = true;
  if (c.attach_stdout) j["AttachStdout"] = true;
  if (c.attach_stderr) j["AttachStderr"] = true;
  if (c.tty) j["Tty"] = true;
  if (c.open_stdin) j["OpenStdin"] = true;
  if (c.stdin_once) j["StdinOnce"] = true;
  if (!c.image.empty()) j["Image"] = c.image;
  if (c.network_disabled) j["NetworkDisabled"] = true;
  if (!c.mac_address.empty()) j["MacAddress"] = c.mac_address;
  if (c.stop_timeout) j["StopTimeout"] = *c.stop_timeout;
  return j;
}

std::string NormalVariant(const Platform& p) {
  if (p.variant.empty() && p.architecture == "arm64") return "v8";
  return p.variant;
}

}  // namespace

Result<Descriptor> ParseDescriptor(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "descriptor"));
  return ReadDescriptor(Reader(j, ""));
}

Result<ImageManifest> ParseManifest(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "manifest"));
  Reader r(j, "");
  ImageManifest m;
  m.schema_version = BERTH_TRY(ReadSchemaVersion(r));
  BERTH_TRY(r.String("mediaType", &m.media_type));
  if (!m.media_type.empty() && !IsManifest(m.media_type))
    return r.Fail("mediaType", "\"" + m.media_type + "\" is not an image manifest");
  // An index's field in a manifest makes the document ambiguous (image-spec 1.0.2).
  if (r.Has("manifests")) return r.Fail("manifests", "not allowed in an image manifest");
  BERTH_TRY(r.String("artifactType", &m.artifact_type));
  BERTH_TRY(ReadDescriptorAt(r, "config", &m.config));
  BERTH_TRY(ReadDescriptors(r, "layers", &m.layers));
  if (r.Find("subject")) {
    Descriptor s;
    BERTH_TRY(ReadDescriptorAt(r, "subject", &s));
    m.subject = std::move(s);
  }
  BERTH_TRY(r.StringMap("annotations", &m.annotations));
  return m;
}

Result<ImageIndex> ParseIndex(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "index"));
  Reader r(j, "");
  ImageIndex x;
  x.schema_version = BERTH_TRY(ReadSchemaVersion(r));
  BERTH_TRY(r.String("mediaType", &x.media_type));
  if (!x.media_type.empty() && !IsIndex(x.media_type))
    return r.Fail("mediaType", "\"" + x.media_type + "\" is not an image index");
  if (r.Has("config")) return r.Fail("config", "not allowed in an image index");
  if (r.Has("layers")) return r.Fail("layers", "not allowed in an image index");
  BERTH_TRY(r.String("artifactType", &x.artifact_type));
  BERTH_TRY(r.Required("manifests"));
  BERTH_TRY(ReadDescriptors(r, "manifests", &x.manifests));
  if (r.Find("subject")) {
    Descriptor s;
    BERTH_TRY(ReadDescriptorAt(r, "subject", &s));
    x.subject = std::move(s);
  }
  BERTH_TRY(r.StringMap("annotations", &x.annotations));
  return x;
}

Result<std::string> DetectManifestMediaType(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "manifest"));
  Reader r(j, "");
  std::string media_type;
  BERTH_TRY(r.String("mediaType", &media_type));
  if (IsManifest(media_type) || IsIndex(media_type)) return media_type;
  if (!media_type.empty())
    return r.Fail("mediaType", "unsupported manifest media type \"" + media_type + "\"");
  int64_t version = 0;
  BERTH_TRY(r.Int("schemaVersion", &version));
  if (version == 1)
    return r.Fail("schemaVersion", "docker image manifest schema 1 is not supported");
  if (r.Has("manifests")) return std::string(kOciIndex);
  if (r.Has("config") || r.Has("layers")) return std::string(kOciManifest);
  return Error::InvalidArgument("manifest: neither an image manifest nor an index");
}

Result<ImageConfig> ParseConfig(std::string_view text) {
  json j = BERTH_TRY(ParseJson(text, "image config"));
  Reader r(j, "");
  ImageConfig c;
  BERTH_TRY(r.String("created", &c.created));
  BERTH_TRY(r.String("author", &c.author));
  BERTH_TRY(r.String("architecture", &c.architecture));
  BERTH_TRY(r.String("os", &c.os));
  BERTH_TRY(r.String("os.version", &c.os_version));
  BERTH_TRY(r.Strings("os.features", &c.os_features));
  BERTH_TRY(r.String("variant", &c.variant));
  BERTH_TRY(r.Object("config", [&](const Reader& cc) -> Result<void> {
    c.config = BERTH_TRY(ReadContainerConfig(cc));
    return {};
  }));
  BERTH_TRY(r.Required("rootfs"));
  BERTH_TRY(r.Object("rootfs", [&](const Reader& fs) -> Result<void> {
    BERTH_TRY(fs.RequiredString("type", &c.rootfs_type));
    if (c.rootfs_type != "layers")
      return fs.Fail("type", "unsupported rootfs type \"" + c.rootfs_type + "\"");
    std::vector<std::string> ids;
    BERTH_TRY(fs.Strings("diff_ids", &ids));
    for (size_t i = 0; i < ids.size(); ++i) {
      c.diff_ids.push_back(BERTH_TRY_CTX(Digest::Parse(ids[i]),
                                         fs.Child("diff_ids") + "[" + std::to_string(i) + "]"));
    }
    return {};
  }));
  BERTH_TRY(r.Array("history", [&](const Reader& h) -> Result<void> {
    History e;
    BERTH_TRY(h.String("created", &e.created));
    BERTH_TRY(h.String("created_by", &e.created_by));
    BERTH_TRY(h.String("author", &e.author));
    BERTH_TRY(h.String("comment", &e.comment));
    BERTH_TRY(h.Bool("empty_layer", &e.empty_layer));
    c.history.push_back(std::move(e));
    return {};
  }));
  // History is not checked against diff_ids: tools (jib, ko, old docker) write histories that do
  // not line up, and docker loads them; whoever shows history must not assume they align.
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(std::begin(kConfigFields), std::end(kConfigFields), it.key()) !=
        std::end(kConfigFields))
      continue;
    c.unknown[it.key()] = it.value().dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return c;
}

Result<ConfigBlob> LoadConfig(std::string bytes) {
  ConfigBlob blob;
  blob.config = BERTH_TRY(ParseConfig(bytes));
  blob.id = Digest::Sha256Hex(BERTH_TRY(Sha256Hex(bytes)));
  blob.bytes = std::move(bytes);
  return blob;
}

Result<ConfigBlob> MakeConfig(ImageConfig config) {
  ConfigBlob blob;
  blob.bytes = Serialize(config);
  blob.id = Digest::Sha256Hex(BERTH_TRY(Sha256Hex(blob.bytes)));
  blob.config = std::move(config);
  return blob;
}

std::string Serialize(const Descriptor& d) { return Dump(DescriptorJson(d)); }

std::string Serialize(const ImageManifest& m) {
  ojson j = ojson::object();
  j["schemaVersion"] = m.schema_version;
  if (!m.media_type.empty()) j["mediaType"] = m.media_type;
  if (!m.artifact_type.empty()) j["artifactType"] = m.artifact_type;
  j["config"] = DescriptorJson(m.config);
  j["layers"] = DescriptorsJson(m.layers);
  if (m.subject) j["subject"] = DescriptorJson(*m.subject);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return Dump(j);
}

std::string Serialize(const ImageIndex& x) {
  ojson j = ojson::object();
  j["schemaVersion"] = x.schema_version;
  if (!x.media_type.empty()) j["mediaType"] = x.media_type;
  if (!x.artifact_type.empty()) j["artifactType"] = x.artifact_type;
  j["manifests"] = DescriptorsJson(x.manifests);
  if (x.subject) j["subject"] = DescriptorJson(*x.subject);
  if (!x.annotations.empty()) j["annotations"] = x.annotations;
  return Dump(j);
}

std::string Serialize(const ImageConfig& c) {
  ojson j = ojson::object();
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.author.empty()) j["author"] = c.author;
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  if (!c.os_version.empty()) j["os.version"] = c.os_version;
  if (!c.os_features.empty()) j["os.features"] = c.os_features;
  if (!c.variant.empty()) j["variant"] = c.variant;
  if (c.config) j["config"] = ContainerConfigJson(*c.config);
  ojson fs = ojson::object();
  fs["type"] = c.rootfs_type;
  fs["diff_ids"] = ojson::array();
  for (const auto& d : c.diff_ids) fs["diff_ids"].push_back(d.str());
  j["rootfs"] = std::move(fs);
  if (!c.history.empty()) {
    ojson h = ojson::array();
    for (const auto& e : c.history) {
      ojson o = ojson::object();
      if (!e.created.empty()) o["created"] = e.created;
      if (!e.created_by.empty()) o["created_by"] = e.created_by;
      if (!e.author.empty()) o["author"] = e.author;
      if (!e.comment.empty()) o["comment"] = e.comment;
      if (e.empty_layer) o["empty_layer"] = true;
      h.push_back(std::move(o));
    }
    j["history"] = std::move(h);
  }
  for (const auto& [key, text] : c.unknown) {
    if (std::find(std::begin(kConfigFields), std::end(kConfigFields), key) !=
        std::end(kConfigFields))
      continue;
    ojson v = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!v.is_discarded()) j[key] = std::move(v);
  }
  return Dump(j);
}

bool PlatformMatches(const Platform& have, const Platform& want) {
  if (have.os != want.os || have.architecture != want.architecture) return false;
  if (want.variant.empty()) return true;
  return NormalVariant(have) == NormalVariant(want);
}

}  // namespace berth::oci

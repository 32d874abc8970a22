// Every instruction's forms, directives, continuations, heredocs and ONBUILD.

#include <gtest/gtest.h>

#include "build/dockerfile/dockerfile.h"

namespace berth::build {
namespace {

using V = std::vector<std::string>;

std::vector<Instruction> Body(std::string_view body) {
  auto r = ParseDockerfile("FROM busybox\n" + std::string(body));
  EXPECT_TRUE(r) << r.error().message();
  if (!r) return {};
  return r->stages[0].instructions;
}

std::string BodyError(std::string_view body) {
  auto r = ParseDockerfile("FROM busybox\n" + std::string(body));
  EXPECT_FALSE(r) << "parsed: " << body;
  return r ? "" : r.error().message();
}

TEST(Forms, ExecAndShell) {
  auto ins = Body(
      "RUN [\"echo\", \"a b\"]\n"
      "RUN [ \"echo\", ]\n"  // invalid JSON: shell form, as Docker
      "ENTRYPOINT [\"/bin/sh\"]\n"
      "CMD echo $HOME\n"
      "SHELL [\"/bin/bash\", \"-c\"]\n"
      "RUN []\n");
  ASSERT_EQ(ins.size(), 6u);
  EXPECT_TRUE(ins[0].json_form);
  EXPECT_EQ(ins[0].args, (V{"echo", "a b"}));
  EXPECT_FALSE(ins[1].json_form);
  EXPECT_EQ(ins[1].args, V{"[ \"echo\", ]"});
  EXPECT_TRUE(ins[2].json_form);
  EXPECT_EQ(ins[3].args, V{"echo $HOME"});
  EXPECT_EQ(ins[4].args, (V{"/bin/bash", "-c"}));
  EXPECT_TRUE(ins[5].json_form);
  EXPECT_TRUE(ins[5].args.empty());
}

TEST(Forms, JsonOfNonStringsIsAnError) {
  EXPECT_EQ(BodyError("CMD [\"a\", 1]\n"),
            "failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised "
            "of strings only");
  EXPECT_EQ(BodyError("SHELL /bin/sh -c\n"),
            "dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form");
}

TEST(Forms, CopyAddVolumeExposeWorkdirUserStopsignal) {
  auto ins = Body(
      "COPY [\"a b\", \"/dst/\"]\n"
      "ADD --chown=1:2 --chmod=644 src.tar /opt/\n"
      "VOLUME /data /logs\n"
      "VOLUME [\"/v\"]\n"
      "EXPOSE 8080/tcp 443 80\n"
      "WORKDIR /app dir\n"
      "USER nobody:nogroup\n"
      "STOPSIGNAL SIGKILL\n"
      "MAINTAINER Someone <a@b>\n");
  ASSERT_EQ(ins.size(), 9u);
  EXPECT_EQ(ins[0].args, (V{"a b", "/dst/"}));
  EXPECT_EQ(ins[1].FindFlag("chown")->value, "1:2");
  EXPECT_EQ(ins[1].FindFlag("chmod")->value, "644");
  EXPECT_EQ(ins[2].args, (V{"/data", "/logs"}));
  EXPECT_EQ(ins[3].args, V{"/v"});
  EXPECT_EQ(ins[4].args, (V{"443", "80", "8080/tcp"}));  // sorted, as Docker
  EXPECT_EQ(ins[5].args, V{"/app dir"});
  EXPECT_EQ(ins[6].args, V{"nobody:nogroup"});
  EXPECT_EQ(ins[7].args, V{"SIGKILL"});
  EXPECT_EQ(ins[8].keyword, "MAINTAINER");
  EXPECT_EQ(ins[8].args, V{"Someone <a@b>"});
}

TEST(Forms, ArgCounts) {
  EXPECT_EQ(BodyError("COPY onlyone\n"),
            "dockerfile parse error on line 2: COPY requires at least two arguments, but only "
            "one was provided. Destination could not be determined");
  EXPECT_EQ(BodyError("WORKDIR\n"),
            "dockerfile parse error on line 2: WORKDIR requires exactly one argument");
  EXPECT_EQ(BodyError("EXPOSE\n"),
            "dockerfile parse error on line 2: EXPOSE requires at least one argument");
  EXPECT_EQ(BodyError("VOLUME [\"\"]\n"),
            "dockerfile parse error on line 2: VOLUME specified can not be an empty string");
  EXPECT_EQ(BodyError("ENV A\n"), "failed to parse Dockerfile: ENV must have two arguments");
  EXPECT_EQ(BodyError("LABEL a=b c\n"),
            "failed to parse Dockerfile: Syntax error - can't find = in \"c\". Must be of the "
            "form: name=value");
  EXPECT_EQ(BodyError("ARG =x\n"), "dockerfile parse error on line 2: ARG names can not be blank");
  EXPECT_EQ(BodyError("ENV =x\n"), "dockerfile parse error on line 2: ENV names can not be blank");
}

TEST(Forms, ArgAndLabel) {
  auto ins = Body("ARG A B=2 C=\"x y\"\nLABEL \"com.x\"=\"1\" b=2\n");
  auto defs = SplitArgs(ins[0]);
  ASSERT_EQ(defs.size(), 3u);
  EXPECT_EQ(defs[0].name, "A");
  EXPECT_FALSE(defs[0].default_value);
  EXPECT_EQ(*defs[1].default_value, "2");
  EXPECT_EQ(*defs[2].default_value, "\"x y\"");
  EXPECT_EQ(ins[1].args, (V{"\"com.x\"", "\"1\"", "b", "2"}));
}

TEST(Forms, FromVariants) {
  auto r = ParseDockerfile("FROM --platform=linux/amd64 a:1 AS One\nFROM one\nFROM scratch\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->stages[0].platform, "linux/amd64");
  EXPECT_EQ(r->stages[0].name, "one");
  EXPECT_EQ(r->stages[1].base, "one");
  EXPECT_EQ(r->stages[2].index, 2);
  auto bad = ParseDockerfile("FROM a AS 1x\n");
  EXPECT_EQ(bad.error().message(),
            "dockerfile parse error on line 1: invalid name for build stage: \"1x\", name can't "
            "start with a number or contain symbols");
  EXPECT_EQ(ParseDockerfile("FROM a b\n").error().message(),
            "dockerfile parse error on line 1: FROM requires either one or three arguments");
  EXPECT_EQ(ParseDockerfile("RUN x\nFROM a\n").error().message(),
            "no build stage in current context");
  EXPECT_EQ(ParseDockerfile("ARG X=1\n").error().message(),
            "No image was generated. Is your Dockerfile empty?");
}

TEST(Forms, Flags) {
  auto ins = Body(
      "COPY --link --parents=false --exclude=*.o --exclude=*.a a /b\n"
      "RUN --mount=type=cache,target=/root/.cache --network=none --security=insecure true\n"
      "ADD --keep-git-dir=true --checksum=sha256:abc x /y\n");
  EXPECT_TRUE(ins[0].FlagTrue("link"));
  EXPECT_FALSE(ins[0].FlagTrue("parents"));
  EXPECT_EQ(ins[0].FlagValues("exclude"), (V{"*.o", "*.a"}));
  EXPECT_EQ(ins[1].FlagValues("mount"), V{"type=cache,target=/root/.cache"});
  EXPECT_EQ(ins[1].FindFlag("network")->value, "none");
  EXPECT_EQ(ins[1].args, V{"true"});
  EXPECT_TRUE(ins[2].FlagTrue("keep-git-dir"));
  EXPECT_EQ(BodyError("COPY --link=maybe a b\n"),
            "dockerfile parse error on line 2: expecting boolean value for flag --link, not: "
            "maybe");
  EXPECT_EQ(BodyError("COPY --from a b\n"),
            "dockerfile parse error on line 2: missing a value on flag: --from");
  EXPECT_EQ(BodyError("COPY --from=a --from=b a b\n"),
            "dockerfile parse error on line 2: duplicate flag specified: --from");
  EXPECT_EQ(BodyError("RUN --network=bridge true\n"),
            "dockerfile parse error on line 2: invalid network mode \"bridge\"");
  EXPECT_EQ(BodyError("RUN --security=x true\n"),
            "dockerfile parse error on line 2: security \"x\" is not valid");
  EXPECT_EQ(BodyError("FROM --platfrom=x a\n"),
            "dockerfile parse error on line 2: unknown flag: --platfrom (did you mean platform?)");
  EXPECT_EQ(BodyError("ADD --from=x a b\n"),
            "dockerfile parse error on line 2: unknown flag: --from");
}

TEST(Forms, Healthcheck) {
  auto ins = Body(
      "HEALTHCHECK NONE\n"
      "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --retries=3 CMD curl -f x\n"
      "HEALTHCHECK CMD [\"/bin/check\", \"-q\"]\n");
  EXPECT_EQ(ins[0].healthcheck->test, V{"NONE"});
  const auto& h = *ins[1].healthcheck;
  EXPECT_EQ(h.test, (V{"CMD-SHELL", "curl -f x"}));
  EXPECT_EQ(h.interval_ns, 30'000'000'000);
  EXPECT_EQ(h.timeout_ns, 90'000'000'000);
  EXPECT_EQ(h.start_period_ns, 5'000'000'000);
  EXPECT_EQ(h.retries, 3);
  EXPECT_EQ(ins[2].healthcheck->test, (V{"CMD", "/bin/check", "-q"}));
  EXPECT_EQ(BodyError("HEALTHCHECK NONE x\n"),
            "dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments");
  EXPECT_EQ(BodyError("HEALTHCHECK CMD\n"),
            "dockerfile parse error on line 2: Missing command after HEALTHCHECK CMD");
  EXPECT_EQ(BodyError("HEALTHCHECK PING x\n"),
            "dockerfile parse error on line 2: Unknown type \"PING\" in HEALTHCHECK (try CMD)");
  EXPECT_EQ(BodyError("HEALTHCHECK --interval=1us CMD x\n"),
            "dockerfile parse error on line 2: Interval \"interval\" cannot be less than 1ms");
  EXPECT_EQ(BodyError("HEALTHCHECK --timeout=5 CMD x\n"),
            "dockerfile parse error on line 2: time: missing unit in duration \"5\"");
  EXPECT_EQ(BodyError("HEALTHCHECK --retries=-1 CMD x\n"),
            "dockerfile parse error on line 2: --retries cannot be negative (-1)");
  EXPECT_EQ(BodyError("HEALTHCHECK --retrie=1 CMD x\n"),
            "dockerfile parse error on line 2: unknown flag: --retrie (did you mean retries?)");
}

TEST(Directives, EscapeAndSyntax) {
  auto r = ParseDockerfile(
      "# syntax=docker/dockerfile:1\n"
      "# escape=`\n"
      "FROM busybox\n"
      "RUN echo a `\n"
      "  b\n"
      "COPY c:\\dir /x\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->escape, '`');
  EXPECT_EQ(r->syntax, "docker/dockerfile:1");
  EXPECT_EQ(r->stages[0].instructions[0].args, V{"echo a   b"});
  EXPECT_EQ(r->stages[0].instructions[1].args, (V{"c:\\dir", "/x"}));
  // After anything else a directive is only a comment.
  auto late = ParseDockerfile("FROM busybox\n# escape=`\nRUN a \\\n b\n");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->escape, '\\');
  EXPECT_EQ(late->stages[0].instructions[0].args, V{"a  b"});
  EXPECT_EQ(ParseDockerfile("# escape=x\nFROM a\n").error().message(),
            "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\");
  EXPECT_EQ(ParseDockerfile("# escape=`\n# escape=`\nFROM a\n").error().message(),
            "failed to parse Dockerfile: only one escape parser directive can be used");
}

TEST(Continuations, CommentsAndEmptyLines) {
  auto r = ParseDockerfile(
      "\xEF\xBB\xBF"
      "FROM busybox\n"
      "RUN a \\\n"
      "# a comment inside\n"
      "\n"
      "  b \\\\\n"
      "RUN c \\   \n"
      "  d\n"
      "RUN e \\");
  ASSERT_TRUE(r) << r.error().message();
  const auto& ins = r->stages[0].instructions;
  ASSERT_EQ(ins.size(), 3u);
  EXPECT_EQ(ins[0].args, V{"a   b \\\\"});  // an escaped escape ends the instruction
  EXPECT_EQ(ins[0].line, 2);
  EXPECT_EQ(ins[1].args, V{"c   d"});
  EXPECT_EQ(ins[1].line, 6);
  EXPECT_EQ(ins[2].args, V{"e"});  // a continuation at the end of the file
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("Empty continuation line"), std::string::npos);
}

TEST(Heredocs, RunAndCopy) {
  auto ins = Body(
      "RUN <<EOF\n"
      "echo $HOME\n"
      "EOF\n"
      "RUN <<-\"END\" cat > /x && 3<<'B' cat\n"
      "\t\tindented\n"
      "\tEND\n"
      "b\n"
      "B\n"
      "COPY <<conf /etc/app.conf\n"
      "key=$V\n"
      "conf\n"
      "RUN echo done\n");
  ASSERT_EQ(ins.size(), 4u);
  ASSERT_EQ(ins[0].heredocs.size(), 1u);
  EXPECT_EQ(ins[0].heredocs[0].name, "EOF");
  EXPECT_EQ(ins[0].heredocs[0].content, "echo $HOME\n");
  EXPECT_TRUE(ins[0].heredocs[0].expand);
  EXPECT_EQ(ins[0].args, V{"<<EOF"});
  EXPECT_EQ(ins[0].end_line, 4);
  ASSERT_EQ(ins[1].heredocs.size(), 2u);
  EXPECT_EQ(ins[1].heredocs[0].name, "END");
  EXPECT_TRUE(ins[1].heredocs[0].chomp_tabs);
  EXPECT_FALSE(ins[1].heredocs[0].expand);
  EXPECT_EQ(ins[1].heredocs[0].content, "indented\n");
  EXPECT_EQ(ins[1].heredocs[1].name, "B");
  EXPECT_EQ(ins[1].heredocs[1].fd, 3);
  EXPECT_EQ(ins[1].heredocs[1].content, "b\n");
  ASSERT_EQ(ins[2].heredocs.size(), 1u);
  EXPECT_EQ(ins[2].args, (V{"<<conf", "/etc/app.conf"}));
  const Heredoc* h = HeredocFor(ins[2], ins[2].args[0]);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->content, "key=$V\n");
  EXPECT_EQ(HeredocFor(ins[2], "/etc/app.conf"), nullptr);
  EXPECT_EQ(ins[3].line, 13);
}

TEST(Heredocs, Errors) {
  EXPECT_EQ(BodyError("RUN <<EOF\nno end\n"), "failed to parse Dockerfile: unterminated heredoc");
  EXPECT_EQ(BodyError("COPY a <<EOF\nx\nEOF\n"),
            "dockerfile parse error on line 2: COPY cannot accept a heredoc as a destination");
  // Exec form and other instructions have no heredocs.
  auto ins = Body("RUN [\"cat\", \"<<EOF\"]\nCMD <<EOF\n");
  EXPECT_TRUE(ins[0].heredocs.empty());
  EXPECT_TRUE(ins[1].heredocs.empty());
}

TEST(Onbuild, TriggerParsedAndRefusals) {
  auto ins = Body("ONBUILD RUN echo hi\nonbuild COPY --from=x a /b\nONBUILD RUNN x\n");
  ASSERT_EQ(ins.size(), 3u);
  EXPECT_EQ(ins[0].args, V{"RUN echo hi"});
  ASSERT_TRUE(ins[0].onbuild);
  EXPECT_EQ(ins[0].onbuild->keyword, "RUN");
  EXPECT_EQ(ins[0].onbuild->args, V{"echo hi"});
  EXPECT_EQ(ins[1].onbuild->FindFlag("from")->value, "x");
  EXPECT_FALSE(ins[2].onbuild);  // Docker checks a trigger only when it runs
  EXPECT_EQ(BodyError("ONBUILD ONBUILD RUN x\n"),
            "dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't "
            "allowed");
  EXPECT_EQ(BodyError("ONBUILD FROM x\n"),
            "dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(BodyError("ONBUILD maintainer x\n"),
            "dockerfile parse error on line 2: MAINTAINER isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(BodyError("ONBUILD\n"),
            "dockerfile parse error on line 2: ONBUILD requires at least one argument");
}

TEST(Onbuild, HeredocTriggerRoundTrips) {
  auto ins = Body("ONBUILD RUN <<EOF\necho x\nEOF\n");
  ASSERT_EQ(ins.size(), 1u);
  EXPECT_EQ(ins[0].args, V{"RUN <<EOF\necho x\nEOF"});
  auto again = ParseInstructionLine(ins[0].args[0]);
  ASSERT_TRUE(again) << again.error().message();
  ASSERT_EQ(again->heredocs.size(), 1u);
  EXPECT_EQ(again->heredocs[0].content, "echo x\n");
  EXPECT_FALSE(ParseInstructionLine("RUN a\nRUN b"));
  EXPECT_FALSE(ParseInstructionLine("FROM a"));
}

TEST(RunMount, ParsedWithAndWithoutExpansion) {
  auto m = ParseRunMount("type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, "bind");  // not substituted yet: only from= is checked at parse time
  std::function<Result<std::string>(std::string_view)> id = [](std::string_view v) {
    return Result<std::string>(std::string(v));
  };
  auto full = ParseRunMount("type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755", &id);
  ASSERT_TRUE(full) << full.error().message();
  EXPECT_EQ(full->type, "cache");
  EXPECT_EQ(full->target, "/root/.cache");
  EXPECT_EQ(full->sharing, "locked");
  EXPECT_EQ(*full->mode, 0755u);
  EXPECT_FALSE(full->read_only);
  auto bind = ParseRunMount("type=bind,from=build,source=/out,target=/in,rw", &id);
  ASSERT_TRUE(bind);
  EXPECT_EQ(bind->from, "build");
  EXPECT_FALSE(bind->read_only);
  auto tmpfs = ParseRunMount("type=tmpfs,target=/t,size=64m", &id);
  EXPECT_EQ(tmpfs->size_limit, 64 << 20);
  EXPECT_EQ(ParseRunMount("type=volume,target=/x", &id).error().message(),
            "unsupported mount type \"volume\"");
  EXPECT_EQ(ParseRunMount("type=bind,mode=0700,target=/x", &id).error().message(),
            "mode not allowed for \"bind\" type mounts");
  EXPECT_EQ(ParseRunMount("target=/x,bogus=1", &id).error().message(),
            "unexpected key 'bogus' in 'bogus=1'");
  EXPECT_EQ(BodyError("RUN --mount=from=$X,target=/x true\n"),
            "dockerfile parse error on line 2: 'from' doesn't support variable expansion, define "
            "alias stage instead");
}

}  // namespace
}  // namespace berth::build

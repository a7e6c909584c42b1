package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node in a JVM started without the {@code --add-opens} flags Atomix's Kryo needs fails its start
 * at once, with one sentence naming the missing flags, and no Kryo stack trace; the JVM then exits
 * on its own (the failed start left no thread behind). Each case runs in a child JVM with the test
 * classpath; the three run side by side.
 */
class MissingJvmFlagsTest {
  private static final String ATOMIC = "--add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED";
  private static final String UTIL = "--add-opens java.base/java.util=ALL-UNNAMED";
  private static final String PREFIX = "etcd-embedded needs these JVM flags for Atomix's serializer: ";

  @TempDir Path tmp;

  /** The child: starts a node, prints one line saying how that went, and returns without System.exit. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      EtcdNode node = EtcdNode.builder().dataDir(Path.of(args[0]))
          .clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build();
      try {
        node.start().get(15, TimeUnit.SECONDS);
        System.out.println("STARTED " + node.clientUrl());
      } catch (ExecutionException e) {
        System.out.println("FAILED " + e.getCause().getClass().getName() + ": " + e.getCause().getMessage());
      } finally {
        node.close();
      }
    }
  }

  @Test
  void withoutTheFlagsStartFailsWithOneSentenceNamingBoth() throws Exception {
    CompletableFuture<Run> none = runChild(List.of(), "none");
    CompletableFuture<Run> oneMissing = runChild(List.of(UTIL.split(" ")), "one");
    CompletableFuture<Run> both = runChild(List.of((ATOMIC + " " + UTIL).split(" ")), "both");

    Run r = none.get(30, TimeUnit.SECONDS);
    assertThat(r.failureLine()).as(r.output())
        .isEqualTo("FAILED java.lang.IllegalStateException: " + PREFIX + ATOMIC + " " + UTIL);
    assertOneSentenceAndNoTrace(r);

    Run partial = oneMissing.get(30, TimeUnit.SECONDS);
    assertThat(partial.failureLine()).as(partial.output())
        .isEqualTo("FAILED java.lang.IllegalStateException: " + PREFIX + ATOMIC);
    assertOneSentenceAndNoTrace(partial);

    // The harness is sound: with both flags the same child starts its node and exits as well.
    Run ok = both.get(30, TimeUnit.SECONDS);
    assertThat(ok.output()).contains("STARTED http://127.0.0.1:").doesNotContain("FAILED");
    assertThat(ok.exitCode()).isZero();
  }

  private static void assertOneSentenceAndNoTrace(Run r) {
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.seconds()).isLessThan(20);
    String message = r.failureLine().substring(r.failureLine().indexOf(PREFIX));
    assertThat(message.split("[.:] ")).as("one sentence: " + message).hasSize(2); // "...serializer: --add-opens ..."
    assertThat(r.output().toLowerCase()).doesNotContain("kryo").doesNotContain("esotericsoftware");
    assertThat(r.output()).doesNotContain("\tat ").doesNotContain("Exception in thread");
  }

  record Run(int exitCode, String output, long seconds) {
    String failureLine() {
      return output.lines().filter(l -> l.startsWith("FAILED ")).findFirst().orElse("(no FAILED line)");
    }
  }

  private CompletableFuture<Run> runChild(List<String> jvmFlags, String name) {
    return CompletableFuture.supplyAsync(() -> {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmFlags);
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(Child.class.getName());
      command.add(tmp.resolve(name).toString());
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().remove("JDK_JAVA_OPTIONS");
      pb.environment().remove("JAVA_TOOL_OPTIONS");
      pb.environment().remove("_JAVA_OPTIONS");
      long begin = System.nanoTime();
      try {
        Process p = pb.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("child JVM (" + name + ") still running after 20 s: " + output.getNow("?"));
        }
        return new Run(p.exitValue(), output.get(5, TimeUnit.SECONDS),
            TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - begin));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
  }

  private static String readAll(InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package org.etcdjvm.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class GettingStartedTest {
  @Test void walksThroughTheGuideAgainstANodeItStartsItself() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    GettingStarted.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines[0]).startsWith("node ready at http://127.0.0.1:");
    assertThat(lines).containsSequence(
        "get    /message = Hello",
        "delete /message (was Hello)",
        "get    /message = null",
        "list   /foo-service/container1 = localhost:1111",
        "watch  SET /foo-service/container2 = localhost:2222",
        "cas    /message Hello -> Hi",
        "cas    /message refused: TestAndSet: Hi!=Hello");
    assertThat(lines[1]).startsWith("set    /message = Hello (new key: true, index ");
    assertThat(lines).contains("watch  EXPIRE /foo (was bar)", "get    /foo = null");
  }
}

package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.etcdjvm.embedded.internal.http.LimitWarnings.Kind;
import org.junit.jupiter.api.Test;

class LimitWarningsTest {
  private final AtomicLong clock = new AtomicLong(123_456_789L);
  private final List<String> lines = new ArrayList<>();
  private final LimitWarnings warnings = new LimitWarnings(clock::get, lines::add);
  private final InetSocketAddress abuser = new InetSocketAddress("127.0.0.2", 50_000);

  @Test
  void oneLineAMinutePerKindNamingTheClientAndCountingTheRest() {
    warnings.warn(Kind.CONNECTIONS_PER_ADDRESS, abuser, "connection refused");
    for (int i = 0; i < 500; i++) {
      clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
      warnings.warn(Kind.CONNECTIONS_PER_ADDRESS, abuser, "connection refused");
    }
    assertThat(lines).containsExactly("client 127.0.0.2:50000: connection refused");

    clock.addAndGet(TimeUnit.SECONDS.toNanos(10)); // 60 s after the first line
    warnings.warn(Kind.CONNECTIONS_PER_ADDRESS, new InetSocketAddress("127.0.0.3", 1), "connection refused");
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1)).isEqualTo(
        "client 127.0.0.3:1: connection refused (and 500 more like this in the last minute)");
  }

  @Test
  void kindsAreCountedApart() {
    warnings.warn(Kind.SLOW_READER, abuser, "closed");
    warnings.warn(Kind.SLOW_REQUEST, abuser, "408");
    warnings.warn(Kind.SLOW_READER, abuser, "closed");
    assertThat(lines).containsExactly("client 127.0.0.2:50000: closed", "client 127.0.0.2:50000: 408");
  }
}

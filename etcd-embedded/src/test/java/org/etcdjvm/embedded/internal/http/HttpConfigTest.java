package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HttpConfigTest {

  @Test
  void defaults() {
    HttpConfig config = HttpConfig.of("127.0.0.1", 4001);
    assertThat(config.maxBodyBytes()).isEqualTo(2 * 1024 * 1024);
    assertThat(config.maxConnections()).isEqualTo(10_000);
    assertThat(config.maxFormFields()).isEqualTo(1_000);
    assertThat(config.maxConnectionsPerAddress()).isEqualTo(2_000);
    assertThat(config.maxWatchersPerAddress()).isEqualTo(1_000);
    assertThat(config.maxPendingWrites()).isEqualTo(1_000);
    assertThat(config.maxPendingWritesPerAddress()).isEqualTo(250);
    assertThat(config.maxRequestsInProgressPerAddress()).isEqualTo(128);
    assertThat(config.maxListingEntries()).isEqualTo(100_000);
    assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.readHeaderTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.readBodyTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.writeTimeout()).isEqualTo(Duration.ofSeconds(30));
    long direct = io.netty.util.internal.PlatformDependent.maxDirectMemory();
    assertThat(config.maxBufferedRequestBytes()).isEqualTo(Math.min(256L << 20, direct / 4));
    assertThat(config.maxBufferedRequestBytesPerAddress()).isEqualTo(config.maxBufferedRequestBytes() / 4);
  }

  @Test
  void theBufferBudgetsFollowTheBodyLimitUnlessSet() {
    HttpConfig big = HttpConfig.of("h", 1).withMaxBodyBytes(512 << 20);
    assertThat(big.maxBufferedRequestBytes()).isEqualTo(512 << 20);
    assertThat(big.maxBufferedRequestBytesPerAddress()).isEqualTo(512 << 20);
    HttpConfig set = HttpConfig.of("h", 1).toBuilder().maxBufferedRequestBytes(100 << 20).build();
    assertThat(set.maxBufferedRequestBytesPerAddress()).isEqualTo(25 << 20);
    assertThat(set.toBuilder().maxBufferedRequestBytesPerAddress(3 << 20).build().maxBufferedRequestBytesPerAddress())
        .isEqualTo(3 << 20);
  }

  @Test
  void withersChangeOneSetting() {
    HttpConfig config = HttpConfig.of("0.0.0.0", 0)
        .withMaxBodyBytes(10)
        .withMaxConnections(2)
        .withIdleTimeout(Duration.ZERO);
    assertThat(config.maxBodyBytes()).isEqualTo(10);
    assertThat(config.maxConnections()).isEqualTo(2);
    assertThat(config.idleTimeout()).isZero();
    assertThat(config.maxFormFields()).isEqualTo(HttpConfig.DEFAULT_MAX_FORM_FIELDS);
    assertThat(config.toBuilder().build()).isEqualTo(config).hasSameHashCodeAs(config);
    assertThat(config.withMaxBodyBytes(11)).isNotEqualTo(config);
  }

  @Test
  void nonsenseIsRejectedEagerly() {
    assertThatThrownBy(() -> HttpConfig.of("127.0.0.1", -1)).hasMessage("port out of range: -1");
    assertThatThrownBy(() -> HttpConfig.of("127.0.0.1", 65_536)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HttpConfig.of(" ", 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HttpConfig.of(null, 1)).hasMessage("host == null");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).withMaxBodyBytes(0)).hasMessage("maxBodyBytes < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxFormFields(0).build()).hasMessage("maxFormFields < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).withMaxConnections(0)).hasMessage("maxConnections < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).withIdleTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxConnectionsPerAddress(0).build())
        .hasMessage("maxConnectionsPerAddress < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxWatchersPerAddress(0).build())
        .hasMessage("maxWatchersPerAddress < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxPendingWrites(0).build())
        .hasMessage("maxPendingWrites < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxPendingWritesPerAddress(0).build())
        .hasMessage("maxPendingWritesPerAddress < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxRequestsInProgressPerAddress(0).build())
        .hasMessage("maxRequestsInProgressPerAddress < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxListingEntries(0).build())
        .hasMessage("maxListingEntries < 1: 0");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxBufferedRequestBytes(1000).build())
        .hasMessage("maxBufferedRequestBytes < 2097152: 1000");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().maxBufferedRequestBytesPerAddress(-1).build())
        .hasMessage("maxBufferedRequestBytesPerAddress < 2097152: -1");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().readHeaderTimeout(null).build())
        .hasMessage("readHeaderTimeout == null");
    assertThatThrownBy(() -> HttpConfig.of("h", 1).toBuilder().writeTimeout(Duration.ofMillis(-1)).build())
        .hasMessage("writeTimeout < 0: PT-0.001S");
  }
}

package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StoreStatsTest {

  @Test
  void startsAtZero() {
    assertThat(new String(new StoreStats().toJson(), StandardCharsets.US_ASCII))
        .isEqualTo("{\"gets\":0,\"sets\":0,\"deletes\":0,\"testAndSets\":0}");
  }

  @Test
  void aTestAndSetCountsAsASetToo() {
    StoreStats stats = new StoreStats();
    stats.countGet();
    stats.countGet();
    stats.countSet(false);
    stats.countSet(true);
    stats.countDelete();
    assertThat(new String(stats.toJson(), StandardCharsets.US_ASCII))
        .isEqualTo("{\"gets\":2,\"sets\":2,\"deletes\":1,\"testAndSets\":1}");
  }
}

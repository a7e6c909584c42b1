package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class WatchRouteTest {

  @Test
  void indexIsAnUnsignedDecimal() {
    assertThat(WatchRoute.parseIndex("0")).isZero();
    assertThat(WatchRoute.parseIndex("42")).isEqualTo(42);
    assertThat(WatchRoute.parseIndex("0042")).isEqualTo(42);
    assertThat(WatchRoute.parseIndex("000000000000000000000001")).isEqualTo(1);
    assertThat(WatchRoute.parseIndex("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void indexesNoLongCanHoldWaitForever() {
    assertThat(WatchRoute.parseIndex("9223372036854775808")).isEqualTo(Long.MAX_VALUE);
    assertThat(WatchRoute.parseIndex("18446744073709551615")).isEqualTo(Long.MAX_VALUE);
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {"+1", "-1", "1.0", " 1", "abc", "18446744073709551616"})
  void anythingElseIsError203(String text) {
    assertThat(WatchRoute.parseIndex(text)).isNegative();
  }
}

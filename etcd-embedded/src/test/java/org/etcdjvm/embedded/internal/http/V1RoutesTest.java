package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class V1RoutesTest {

  @Test
  void aPrefixMatchesItselfAndWhatLiesBelowIt() {
    assertThat(V1Routes.isUnder("/v1/keys", "/v1/keys")).isTrue();
    assertThat(V1Routes.isUnder("/v1/keys/", "/v1/keys")).isTrue();
    assertThat(V1Routes.isUnder("/v1/keys/a/b", "/v1/keys")).isTrue();
  }

  @Test
  void aLongerSegmentIsNotBelowThePrefix() {
    assertThat(V1Routes.isUnder("/v1/keysx", "/v1/keys")).isFalse();
    assertThat(V1Routes.isUnder("/v1/key", "/v1/keys")).isFalse();
  }
}

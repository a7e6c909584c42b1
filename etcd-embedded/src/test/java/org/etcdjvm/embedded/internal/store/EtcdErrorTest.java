package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EtcdErrorTest {

  @Test
  void codesAndMessagesAreEtcds() {
    assertThat(EtcdError.KEY_NOT_FOUND.code()).isEqualTo(100);
    assertThat(EtcdError.KEY_NOT_FOUND.message()).isEqualTo("Key Not Found");
    assertThat(EtcdError.TEST_FAILED.message()).isEqualTo("The given PrevValue is not equal to the value of the key");
    assertThat(EtcdError.EVENT_INDEX_CLEARED.code()).isEqualTo(401);
    assertThat(EtcdError.INVALID_FIELD.code()).isEqualTo(209);
  }

  @Test
  void threeHundredsAre500AndEverythingElse400() {
    for (EtcdError e : EtcdError.values()) {
      assertThat(e.httpStatus()).as(e.name()).isEqualTo(e.code() / 100 == 3 ? 500 : 400);
    }
    assertThat(EtcdError.RAFT_INTERNAL.httpStatus()).isEqualTo(500);
    assertThat(EtcdError.LEADER_ELECTION.httpStatus()).isEqualTo(500);
    assertThat(EtcdError.KEY_NOT_FOUND.httpStatus()).isEqualTo(400);
    assertThat(EtcdError.KEYWORD.httpStatus()).isEqualTo(400);
  }

  @Test
  void ofCodeFindsEveryErrorAndRejectsUnknownCodes() {
    for (EtcdError e : EtcdError.values()) {
      assertThat(EtcdError.ofCode(e.code())).isSameAs(e);
    }
    assertThatThrownBy(() -> EtcdError.ofCode(201)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void storeExceptionCarriesErrorAndCauseWithoutStackTrace() {
    StoreException e = new StoreException(EtcdError.KEY_NOT_FOUND, "get: /foo");
    assertThat(e.error()).isEqualTo(EtcdError.KEY_NOT_FOUND);
    assertThat(e.cause()).isEqualTo("get: /foo");
    assertThat(e.getStackTrace()).isEmpty();
    assertThat(new StoreException(EtcdError.RAFT_INTERNAL, null).cause()).isNull();
  }
}

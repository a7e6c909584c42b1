package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pure parts of {@link KeysRoute}: key decoding, TTL parsing, size checks, failure unwrapping. */
class KeysRouteTest {

  @Test
  void theKeyIsThePercentDecodedPathCleaned() throws StoreException {
    assertThat(KeysRoute.cleanKey("/foo/bar/", 1024)).isEqualTo("/foo/bar");
    assertThat(KeysRoute.cleanKey("", 1024)).isEqualTo("/");
    assertThat(KeysRoute.cleanKey("/", 1024)).isEqualTo("/");
    assertThat(KeysRoute.cleanKey("/a%2Fb", 1024)).isEqualTo("/a/b");
    assertThat(KeysRoute.cleanKey("/a+b", 1024)).isEqualTo("/a+b");
    assertThat(KeysRoute.cleanKey("/%C3%A9t%C3%A9", 1024)).isEqualTo("/été");
  }

  @Test
  void aKeyThatIsNotUtf8IsError209NamingTheKey() {
    assertThatThrownBy(() -> KeysRoute.cleanKey("/%FF", 1024))
        .isInstanceOfSatisfying(StoreException.class, e -> {
          assertThat(e.error()).isEqualTo(EtcdError.INVALID_FIELD);
          assertThat(e.cause()).startsWith("key:");
        });
    assertThatThrownBy(() -> KeysRoute.cleanKey("/a%2", 1024)).isInstanceOf(StoreException.class);
  }

  @Test
  void keyCleaningErrorsComeFromTheStore() {
    assertThatThrownBy(() -> KeysRoute.cleanKey("/..", 1024))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.error()).isEqualTo(EtcdError.INVALID_FIELD));
    assertThatThrownBy(() -> KeysRoute.cleanKey("/%00", 1024)).isInstanceOf(StoreException.class);
    assertThatThrownBy(() -> KeysRoute.cleanKey("/" + "k".repeat(1024), 1024)).isInstanceOf(StoreException.class);
  }

  @Test
  void ttlIsGosAtoi() {
    assertThat(KeysRoute.parseTtl("5")).isEqualTo(5);
    assertThat(KeysRoute.parseTtl("+5")).isEqualTo(5);
    assertThat(KeysRoute.parseTtl("007")).isEqualTo(7);
    assertThat(KeysRoute.parseTtl("-3")).isEqualTo(-3);
    assertThat(KeysRoute.parseTtl("0")).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.5", "abc", " 5", "5 ", "+", "-", "0x10", "1e3", "\u0665", "99999999999999999999"})
  void anythingElseIsNotATtl(String text) {
    assertThat(KeysRoute.parseTtl(text)).isNegative();
  }

  @Test
  void aTtlBeyondWhatGoCouldRepresentIsRejected() {
    assertThat(KeysRoute.parseTtl(Long.toString(KeysRoute.MAX_TTL_SECONDS))).isEqualTo(KeysRoute.MAX_TTL_SECONDS);
    assertThat(KeysRoute.parseTtl(Long.toString(KeysRoute.MAX_TTL_SECONDS + 1))).isNegative();
  }

  @Test
  void utf8LengthIsExactOnceItMatters() {
    assertThat(KeysRoute.utf8Length("abc", 1)).isGreaterThan(1);
    assertThat(KeysRoute.utf8Length("abc", 3)).isEqualTo(3);
    assertThat(KeysRoute.utf8Length("\u00e9\u00e9", 3)).isGreaterThan(3);
    assertThat(KeysRoute.utf8Length("\u00e9\u00e9", 4)).isLessThanOrEqualTo(4);
    assertThat(KeysRoute.utf8Length("\uD83D\uDE00", 4)).isEqualTo(4);
    assertThat(KeysRoute.utf8Length("\uD83D\uDE00", 3)).isGreaterThan(3);
    assertThat(KeysRoute.utf8Length("\u20ac", 2)).isEqualTo(3);
  }

  @Test
  void futureWrappersAreUnwrapped() {
    TimeoutException timeout = new TimeoutException();
    assertThat(KeysRoute.unwrap(new CompletionException(new ExecutionException(timeout)))).isSameAs(timeout);
    assertThat(KeysRoute.unwrap(timeout)).isSameAs(timeout);
    CompletionException bare = new CompletionException("no cause", null);
    assertThat(KeysRoute.unwrap(bare)).isSameAs(bare);
  }
}

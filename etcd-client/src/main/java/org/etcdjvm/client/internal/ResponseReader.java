package org.etcdjvm.client.internal;

import java.io.IOException;
import okhttp3.Response;
import org.etcdjvm.client.EtcdException;

/** Decodes a successful (2xx) response body. */
@FunctionalInterface
public interface ResponseReader<T> {
  T read(Response response) throws IOException, EtcdException;
}

package org.etcdjvm.client.integration;

/** A typed value for the Moshi round trip (Moshi needs records to be public). */
public record Config(String host, int port) {}

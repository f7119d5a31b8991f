package dev.mates.loadtest;

import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.v1.Document;
import dev.mates.proto.v1.ScoreRequest;
import dev.mates.proto.v1.ScoreResponse;
import dev.mates.proto.v1.ScorerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The online {@code Score} RPC as the load generator sends it: real gRPC with a bearer token (and TLS when given), over
 * a few connections to one loopback target, every call with a deadline, every document fresh text.
 */
public final class ScoreClient implements AutoCloseable {
    /**
     * @param modelRef       the model object ({@code runs/<run>/…} of the deployment's bucket)
     * @param backbone       ngram, minilm-int8 or minilm-fp32: the model's
     * @param docsPerRequest documents in each request
     * @param docChars       characters of each document (about)
     * @param deadline       of every call
     * @param seed           of the documents' text
     */
    public record Requests(String modelRef, String backbone, int docsPerRequest, int docChars, Duration deadline, long seed) {
        public Requests {
            if (docsPerRequest < 1) throw new IllegalArgumentException("documents per request: must be ≥ 1, got " + docsPerRequest);
            if (docChars < 1) throw new IllegalArgumentException("document length: must be ≥ 1 character, got " + docChars);
            if (deadline.isNegative() || deadline.isZero()) throw new IllegalArgumentException("deadline " + deadline + ": must be > 0");
        }
    }

    private final Loopback.Target target;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<ScorerGrpc.ScorerStub> stubs = new ArrayList<>();
    private final Requests requests;

    /**
     * @param connections HTTP/2 connections the calls are spread over (a server caps the streams of one connection,
     *                    often at 100; more connections let more calls reach it at once)
     */
    public ScoreClient(Loopback.Target target, Channels.Tls tls, Supplier<String> token, int connections, Requests requests) {
        if (connections < 1 || connections > 64) throw new IllegalArgumentException("connections: 1 to 64, got " + connections);
        this.target = target;
        this.requests = requests;
        for (int i = 0; i < connections; i++) {
            // The callbacks only record a reply: they may run on the transport's threads.
            ManagedChannel ch = Channels.builder(target.grpcTarget(), tls).intercept(BearerToken.of(token)).directExecutor().build();
            channels.add(ch);
            stubs.add(ScorerGrpc.newStub(ch));
        }
    }

    /** Request {@code i} of a rate: {@code docsPerRequest} documents whose texts are keyed by {@code keyBase + i}. */
    ScoreRequest request(long keyBase, long i) {
        ScoreRequest.Builder b = ScoreRequest.newBuilder().setModelRef(requests.modelRef).setBackbone(requests.backbone);
        for (int k = 0; k < requests.docsPerRequest; k++) {
            long key = (keyBase + i) * requests.docsPerRequest + k;
            b.addDocuments(Document.newBuilder().setId("lt-" + key).setText(SyntheticText.of(requests.seed, key, requests.docChars)));
        }
        return b.build();
    }

    /**
     * One blocking call before any load, so a wrong model, token or target is one clear error instead of a table of
     * failed requests; it also loads the model in the scorer (the first call may take seconds).
     */
    public void check(Duration timeout) {
        ScoreRequest req = request(1L << 40, 0); // a key no rate uses
        try {
            ScoreResponse r = ScorerGrpc.newBlockingStub(channels.get(0)).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).score(req);
            if (r.getScoresCount() != requests.docsPerRequest) {
                throw new IllegalStateException("the scorer at " + target.grpcTarget() + " answered " + r.getScoresCount()
                        + " scores for " + requests.docsPerRequest + " documents");
            }
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            String hint = switch (s.getCode()) {
                case UNAVAILABLE -> "is a scorer running at " + target.grpcTarget() + "? If it serves TLS, pass --tls-ca";
                case UNAUTHENTICATED -> "set MATES_TOKEN or pass --token-file FILE with a client token of that deployment";
                case NOT_FOUND -> "no model at --model-ref " + requests.modelRef + " in the scorer's bucket";
                case PERMISSION_DENIED -> "--model-ref must name an object under runs/<run>/";
                default -> "see the scorer's log";
            };
            throw new IllegalArgumentException("--target " + target.grpcTarget() + ": the first Score call failed: " + s.getCode()
                    + ": " + s.getDescription() + " (" + hint + ")", e);
        }
    }

    /** The sender of one rate; {@code keyBase} keeps its documents' texts apart from other rates'. */
    public OpenLoop.Sender sender(long keyBase) {
        return (i, done) -> {
            ScoreRequest req = request(keyBase, i);
            stubs.get((int) (i % stubs.size())).withDeadlineAfter(requests.deadline.toNanos(), TimeUnit.NANOSECONDS)
                    .score(req, new StreamObserver<>() {
                        private ScoreResponse response;

                        @Override
                        public void onNext(ScoreResponse r) {
                            response = r;
                        }

                        @Override
                        public void onError(Throwable t) {
                            done.accept(new OpenLoop.Reply(Status.fromThrowable(t).getCode().name(), 0));
                        }

                        @Override
                        public void onCompleted() {
                            boolean whole = response != null && response.getScoresCount() == requests.docsPerRequest;
                            done.accept(whole ? new OpenLoop.Reply(OpenLoop.Reply.OK, response.getBatchSize())
                                    : new OpenLoop.Reply("BAD_RESPONSE", 0));
                        }
                    });
        };
    }

    @Override
    public void close() {
        for (ManagedChannel ch : channels) ch.shutdownNow();
    }
}

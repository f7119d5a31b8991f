package dev.mates.services.common;

import dev.mates.engine.data.Document;
import dev.mates.engine.influence.FitReport;
import dev.mates.proto.v1.FitMetrics;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Conversions between the mates.v1 messages and engine types, with the documented request limits. */
public final class Protos {
    private Protos() {}

    public static dev.mates.proto.v1.Document toProto(Document d) {
        return dev.mates.proto.v1.Document.newBuilder().setId(d.id()).setText(d.text()).putAllMeta(d.meta()).build();
    }

    /**
     * Engine documents from a request, checking the limits: at most {@code maxDocs} documents, each with a
     * non-empty unique id and at most {@code maxChars} characters of text.
     */
    public static List<Document> documents(List<dev.mates.proto.v1.Document> in, int maxDocs, int maxChars) {
        if (in.isEmpty()) throw GrpcErrors.invalid("documents", "is empty");
        if (in.size() > maxDocs) {
            throw GrpcErrors.exhausted("documents", in.size() + " documents exceed the limit of " + maxDocs
                    + " per request (mates.limits.max-documents); split the batch");
        }
        List<Document> out = new ArrayList<>(in.size());
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < in.size(); i++) {
            dev.mates.proto.v1.Document d = in.get(i);
            if (d.getId().isEmpty()) throw GrpcErrors.invalid("documents[" + i + "].id", "is empty");
            if (!ids.add(d.getId())) throw GrpcErrors.invalid("documents[" + i + "].id", "'" + d.getId() + "' appears twice");
            if (d.getText().length() > maxChars) {
                throw GrpcErrors.exhausted("documents[" + i + "].text", d.getText().length() + " characters exceed the limit of "
                        + maxChars + " (mates.limits.max-document-chars)");
            }
            out.add(new Document(d.getId(), d.getText(), d.getMetaMap()));
        }
        return out;
    }

    public static FitMetrics toProto(FitReport r) {
        return FitMetrics.newBuilder().setBackbone(r.backbone()).setTrainSize(r.trainSize()).setTuneSize(r.tuneSize()).setValSize(r.valSize())
                .setEpochs(r.epochs()).setBestEpoch(r.bestEpoch()).setValSpearman(r.valSpearman())
                .setValPearson(r.valPearson()).setSeconds(r.seconds()).build();
    }

    public static FitReport fromProto(FitMetrics m) {
        return new FitReport(m.getBackbone(), m.getTrainSize(), m.getTuneSize(), m.getValSize(), m.getEpochs(), m.getBestEpoch(),
                m.getValSpearman(), m.getValPearson(), m.getSeconds());
    }
}

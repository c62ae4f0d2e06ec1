// novelty: query cells of a type the reference lacks. A classifier gives such cells a known
// label (the softmax has no "none of these"), but it is unsure of them as a group, or embeds them
// far from every reference type: the query is over-clustered coarsely (Leiden, modularity, on the
// 15-NN graph of the model's embedding) and a cluster is called novel when its median confidence
// (max probability) is below a cut-off or, given distances from the reference, its median
// distance is above a cut-off. A whole cluster must be unsure or far, so the few hard cells of a
// known type stay labelled (docs/results.md, "Novel cell types", for the evidence and cut-offs).
//
// Collective: rank r's cells are rows [start, start + n) of the query. At most
// max_cells cells (every s-th in global order) are gathered and clustered on rank 0;
// every other cell joins the cluster with the nearest centroid. Cluster medians are over the
// clustered cells. 1 and N ranks give the same result (the sample and its order do not depend on
// the ranks).
#ifndef KIDA_NOVELTY_H
#define KIDA_NOVELTY_H
#include <stddef.h>
#include <stdint.h>

#include "mpi/dist.h"

// Cells clustered on rank 0 at the most in kida (exact kNN: O(cells^2 x width)).
#define NOVELTY_MAX_CELLS 20000

typedef struct {
    int32_t *cluster;         // (n) this rank's cells' cluster, 0 = the largest
    float *cluster_conf;      // (n) the median confidence of the cell's cluster
    float *cluster_score;     // (n) the median distance of the cell's cluster, or NULL without distances
    float *cluster_r;         // (n) the profile correlation of the cell's cluster (novelty_by_profile), or NULL
    uint8_t *novel;           // (n) 1: the cell's cluster is novel
    size_t n_clusters;        // over all ranks
    size_t n_novel_clusters;
    size_t n_novel;           // cells in novel clusters, all ranks
    size_t n_clustered;       // cells clustered by Leiden (the rest by nearest centroid)
} Novelty;

// The reference hold-out's own confidence bounds the cut-off (--novel-holdout-quantile, 0.1): a
// cluster is novel only when it is less sure than that share of the held-out reference cells (a
// reference the model is unsure of, such as spatial layers, would otherwise make every query
// cluster novel). The cut-off in use: min(cutoff, the q quantile (linear interpolation) of the n
// ascending hold-out confidences); cutoff when n is 0 (kida predict: no reference) or q is 0.
double novelty_cutoff(double cutoff, const float *holdout_conf, size_t n, double q);
// Per-cluster medians: conf (n) of cells with cluster codes cl (n) in [0, n_clusters) into
// med (n_clusters); a cluster without cells gets 1 (never novel).
void novelty_cluster_medians(float *med, const float *conf, const int32_t *cl, size_t n, size_t n_clusters);
// The nearest of the k centroids (k,C) to each of the n rows of x (n,C) into cl (n); ties: the
// lower code.
void novelty_nearest(int32_t *cl, const float *x, size_t n, const double *centroid, size_t k, size_t C);
// The whole rule on this rank's n cells: emb (n,C) and conf (n) of a model. resolution: Leiden's;
// cutoff: a cluster's median confidence below it is novel; score (n, or NULL): each cell's
// distance from the reference, and a cluster whose median score is above score_cutoff (NAN: no
// such rule) is novel too; max_cells: at most this many cells are clustered (NOVELTY_MAX_CELLS in
// kida). Needs igraph (HAVE_IGRAPH); without it every cell is one cluster, never novel, and a
// warning says so.
Novelty novelty_find(const float *emb, const float *conf, const float *score, size_t n, size_t C, double resolution,
                     double cutoff, double score_cutoff, size_t max_cells, uint64_t seed, const Dist *d);

// The profile rule (novelty_profile.c). A model can label a missing type confidently as another
// type; its cells' expression still does not look like that type's. For each cluster: its mean
// log expression profile (prep/profiles.h), and the label most of its cells have (pred). Both the
// clusters' and the reference types' profiles are centred (minus the mean profile of the clusters,
// and of the types; this removes most of a shift between technologies) and correlated over the
// reference's marker genes: the union of each type's NOVELTY_MARKERS genes of largest profile
// minus the mean of the other types' profiles. A cluster whose correlation with its label's
// profile is below r_min is novel.
#define NOVELTY_MARKERS 50
// mask (G): the marker genes of the K profiles (K,G) (a row of NAN: a type without cells,
// skipped); n per type. Returns how many genes are set.
size_t novelty_profile_markers(uint8_t *mask, const float *profile, size_t K, size_t G, size_t n);
// r (nc): the centred correlation over mask of each cluster's profile (nc,G; a NAN row: no cells)
// with the profile of its label lab[c]: NAN when the cluster or the label has none or the label's
// profile is flat over mask, or fewer than 2 clusters have cells (centring leaves nothing); 0
// when the cluster's is flat (it resembles no known type).
void novelty_profile_r(double *r, const float *cluster, const int32_t *lab, size_t nc, const float *profile, size_t K,
                       size_t G, const uint8_t *mask);
// Applies the rule to v (novel, n_novel, n_novel_clusters, cluster_r) of this rank's n cells:
// cluster (v->n_clusters, G), the clusters' profiles; pred (n), the cells' labels in [0, K);
// profile (K,G) of the reference types. Collective; the same on any rank count. Returns the
// clusters it made novel that were not already.
size_t novelty_by_profile(Novelty *v, size_t n, const float *cluster, const int32_t *pred, const float *profile, size_t K,
                          size_t G, double r_min, const Dist *d);
void novelty_free(Novelty *v);
#endif

"""The API's views. Thin: read through the pages' querysets and FilterSets, write through the services.

What is public is what the pages show (evidence.views): articles, claims with their published verdict,
studies, citations and flags; a claim's reviews once its verdict is published. A signed-in user also
sees their own reviews, and, as on the review page, a reviewer sees the other reviews of a claim once
they have submitted their own; editors (reviews.view_others_reviews) see every review.

Every list runs a fixed number of queries whatever the number of rows (tests/test_api_read.py pins
them): the count, the page, and one query per prefetched relation. The claim list, the heaviest, is
also kept per data version for anonymous clients (ClaimViewSet.list), as the public pages are.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, OuterRef, Prefetch, QuerySet, Value, When
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evidence import caching
from evidence import services as evidence_services
from evidence.api import permissions as perms
from evidence.api import serializers as s
from evidence.api.errors import ValidationErrorSerializer, error_body
from evidence.api.filters import CitationFilter, FlagFilter, ReviewFilter
from evidence.api.throttling import TokenThrottle
from evidence.filters import ClaimFilter, StudyFilter
from evidence.models import Article, Citation, Claim, Relation, Study, subquery_count
from reviews import services as review_services
from reviews.access import visible_reviews
from reviews.claims import for_readers
from reviews.grade import Grading
from reviews.models import Flag, Review, ReviewRound, VerdictVersion

# Citations in the order the claim page groups them: supporting evidence first, newest studies first.
RELATION_RANK = Case(
    *[When(relation=relation, then=Value(i)) for i, relation in enumerate(Relation.values)],
    output_field=IntegerField(),
)


def citations_with_studies() -> QuerySet[Citation]:
    # the stored formatted references are the pages' (Study.references), not the API's
    return (
        Citation.objects.select_related("study")
        .defer("study__references")
        .order_by(RELATION_RANK, F("study__year").desc(nulls_last=True), "pk")
    )


# --- Articles --------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the articles under review", description="Newest first, undated last."),
    retrieve=extend_schema(summary="An article with its full text"),
)
class ArticleViewSet(viewsets.ReadOnlyModelViewSet):
    """Articles: two queries per page (count and page), one for an article."""

    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Article]:
        # the home page's order (evidence.views.home)
        articles = Article.objects.annotate(n_claims=Count("claims")).order_by(
            F("published_on").desc(nulls_last=True), "-created_at", "pk"
        )
        return articles.defer("text", "headings") if self.action == "list" else articles

    def get_serializer_class(self):
        return s.ArticleSerializer if self.action == "list" else s.ArticleDetailSerializer


# --- Claims --------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List claims, filtered as on the claim list page",
        description="Filters, search (q) and sort are the claim list page's own (evidence.filters.ClaimFilter). "
        "Four queries per page whatever its size: count, page, citations with their studies, flags.",
    ),
    retrieve=extend_schema(summary="A claim with its verdict, evidence, flags and citations"),
)
class ClaimViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = ClaimFilter
    required_perms = {
        "review": perms.REVIEW_OWN,
        "adjudicate": perms.ADJUDICATE_CLAIM,
        "publish": perms.PUBLISH_VERDICT,
    }

    def get_queryset(self) -> QuerySet[Claim]:
        if self.action in ("list", "retrieve"):
            # the claim list's queryset, plus the consensus row and the citations and flags shown
            claims = (
                for_readers()
                .select_related("consensus__published_version")
                .prefetch_related(
                    Prefetch("citations", queryset=citations_with_studies()),
                    Prefetch("flags", queryset=Flag.objects.order_by("-raised_at", "-pk")),
                )
            )
            if self.action == "retrieve":
                # the claim's verdict versions and re-review rounds (ClaimDetailSerializer)
                claims = claims.prefetch_related(
                    Prefetch("verdict_versions", queryset=VerdictVersion.objects.order_by("-number")),
                    Prefetch("review_rounds", queryset=ReviewRound.objects.order_by("number")),
                )
            return claims
        return Claim.objects.select_related("article")

    def filter_queryset(self, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        # ClaimFilter narrows the list; a claim's own URL is not filtered
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return s.ClaimDetailSerializer if self.action == "retrieve" else s.ClaimSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page as DRF builds it; for an anonymous client, kept per data version (evidence.caching).

        Only the body is cached, here, inside the view: authentication, permissions and throttling run
        for every request before it, and a refused filter or a page past the last raises before anything
        is stored, so errors keep their JSON answers. The key is the pages' (caching.url_key: the code and
        the absolute URL, since the body's links name the host); the version in the key retires every page
        at the next committed change. PAGE_CACHE turns it off, as for the pages (tests do: their
        transactions never commit).
        """
        if not settings.PAGE_CACHE or request.user.is_authenticated:
            return super().list(request, *args, **kwargs)
        version, _ = caching.request_version(request)
        key = f"api:claims:{caching.url_key(request)}"
        return Response(
            caching.cached(
                key,
                lambda: super(ClaimViewSet, self).list(request, *args, **kwargs).data,
                version,
                # as long as a page: a key per URL, so the clients choose how many there are
                timeout=caching.PAGE_TIMEOUT,
            )
        )

    @extend_schema(
        methods=["GET"],
        summary="Your review of the claim",
        description="The signed-in reviewer's own review; 404 while they have none. Needs reviews.add_review "
        "(the Reviewers group), as the review page does.",
        responses={200: s.ReviewSerializer},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Submit or replace your review of the claim",
        description="Creates the signed-in reviewer's review (201) or replaces its values (200), then refreshes "
        "the claim's consensus (reviews.services.review_submit). Needs reviews.add_review. Other reviewers' "
        "reviews of the claim become visible to you in /api/reviews/?claim=<id> once yours is submitted.",
        request=s.ReviewWriteSerializer,
        responses={200: s.ReviewSerializer, 201: s.ReviewSerializer},
    )
    @action(detail=True, methods=["get", "put"], url_path="review")
    def review(self, request: Request, pk: str | None = None) -> Response:
        claim = self.get_object()
        if request.method == "GET":
            # the reviewer's review in the claim's current round; an earlier round's stays in /api/reviews/
            own = (
                Review.objects.filter(claim=claim, reviewer=request.user, round=review_services.current_round(claim))
                .select_related("reviewer")
                .first()
            )
            if own is None:
                return _not_found("You have not reviewed this claim yet.")
            return Response(s.ReviewSerializer(own, context=self.get_serializer_context()).data)
        data = _valid(s.ReviewWriteSerializer, request)
        # 201 or 200 as the service found it under the claim's lock: a look before the call could be
        # overtaken by a simultaneous submission of the same review
        review, created = review_services.review_upsert(
            claim=claim,
            reviewer=request.user,
            certainty=data["certainty"],
            verdict=data["verdict"],
            rationale=data["rationale"],
            grading=Grading.from_mapping(data),
            certainty_reason=data["certainty_reason"],
            conflict_of_interest=data["conflict_of_interest"],
            conflict_statement=data["conflict_statement"],
            read_full_text=data["read_full_text"],
        )
        review.reviewer = request.user
        body = s.ReviewSerializer(review, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Adjudicate the claim (editors)",
        description="Records the editor's certainty and verdict, which replace the reviews' median and majority "
        "(reviews.services.claim_adjudicate). Needs reviews.view_consensus, reviews.view_others_reviews and "
        "reviews.adjudicate_claim, as the editor's page does. The claim needs at least one review.",
        request=s.DecisionSerializer,
        responses={200: s.EditorConsensusSerializer},
    )
    @action(detail=True, methods=["post"])
    def adjudicate(self, request: Request, pk: str | None = None) -> Response:
        claim = self.get_object()
        data = _valid(s.DecisionSerializer, request)
        consensus = review_services.claim_adjudicate(claim=claim, adjudicated_by=request.user, **data)
        return Response(s.EditorConsensusSerializer(consensus).data)

    @extend_schema(
        summary="Publish the claim's verdict (editors)",
        description="Publishes the decision to readers (reviews.services.verdict_publish); 400 with the reasons "
        "when the claim is not ready. Needs reviews.view_consensus, reviews.view_others_reviews and "
        "reviews.publish_verdict.",
        request=s.PublishSerializer,
        responses={200: s.EditorConsensusSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        claim = self.get_object()
        data = _valid(s.PublishSerializer, request)
        consensus = review_services.verdict_publish(claim=claim, published_by=request.user, rationale=data["rationale"])
        return Response(s.EditorConsensusSerializer(consensus).data)


# --- Studies ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List studies, filtered as on the study list page",
        description="Filters, search (q: title, author, journal; or a DOI or PMID) and sort are the study list "
        "page's own (evidence.filters.StudyFilter). Two queries per page.",
        # StudyFilter's year bounds are NumberFilters: they take any number (2000.5 means from 2000)
        parameters=[
            OpenApiParameter("year_min", OpenApiTypes.NUMBER, description="From year"),
            OpenApiParameter("year_max", OpenApiTypes.NUMBER, description="To year"),
        ],
    ),
    retrieve=extend_schema(summary="A study and the claims citing it"),
    create=extend_schema(
        summary="Add a study (curators)",
        description="Needs evidence.add_study (the Curators group). DOI and PMID are normalised; one that "
        "another study has is refused, naming that study.",
        request=s.StudyWriteSerializer,
        responses={201: s.StudyDetailSerializer},
    ),
    update=extend_schema(
        summary="Replace a study's fields (curators)",
        description="Needs evidence.change_study. A change of retraction status to retracted flags the claims "
        "relying on the study and sends them back for re-review (evidence.services.study_set_retraction).",
        request=s.StudyWriteSerializer,
        responses={200: s.StudyDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Change some of a study's fields (curators)",
        description="As PUT, with only the fields given.",
        request=s.StudyWriteSerializer,
        responses={200: s.StudyDetailSerializer},
    ),
)
class StudyViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = StudyFilter
    required_perms = {
        "create": perms.STUDY_ADD,
        "update": perms.STUDY_CHANGE,
        "partial_update": perms.STUDY_CHANGE,
    }

    def get_queryset(self) -> QuerySet[Study]:
        # the study list page's queryset (evidence.views.study_list)
        studies = Study.objects.annotate(n_claims=subquery_count(Citation.objects.filter(study=OuterRef("pk"))))
        if self.action == "list":
            return studies
        return studies.prefetch_related(
            Prefetch(
                "citations",
                queryset=Citation.objects.select_related("claim__article").order_by(
                    "claim__article__title", "claim__start", "pk"
                ),
            )
        )

    def filter_queryset(self, queryset: QuerySet[Study]) -> QuerySet[Study]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action == "list":
            return s.StudySerializer
        if self.action in ("create", "update", "partial_update"):
            return s.StudyWriteSerializer
        return s.StudyDetailSerializer

    def _detail(self, study: Study, code: int) -> Response:
        fresh = self.get_queryset().get(pk=study.pk)
        return Response(s.StudyDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.StudyWriteSerializer, request)
        study = evidence_services.study_create(values=data, user=request.user)
        return self._detail(study, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        study = self.get_object()
        data = _valid(s.StudyWriteSerializer, request, partial=kwargs.get("partial", False), instance=study)
        study = evidence_services.study_update(study=study, values=data, user=request.user)
        return self._detail(study, status.HTTP_200_OK)


# --- Citations ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List citations (claim ↔ study links)", description="Two queries per page."),
    retrieve=extend_schema(summary="A citation"),
    create=extend_schema(
        summary="Cite a study for a claim (curators)",
        description="Needs evidence.add_citation (the Curators group). A claim that now relies on a retracted "
        "study is flagged, as the admin does.",
        request=s.CitationCreateSerializer,
        responses={201: s.CitationSerializer},
    ),
    update=extend_schema(
        summary="Replace what a citation says (curators)",
        description="Needs evidence.change_citation.",
        request=s.CitationUpdateSerializer,
        responses={200: s.CitationSerializer},
    ),
    partial_update=extend_schema(
        summary="Change some of what a citation says (curators)",
        description="Needs evidence.change_citation.",
        request=s.CitationUpdateSerializer,
        responses={200: s.CitationSerializer},
    ),
    destroy=extend_schema(summary="Remove a citation (curators)", description="Needs evidence.delete_citation."),
)
class CitationViewSet(viewsets.ModelViewSet):
    filterset_class = CitationFilter
    serializer_class = s.CitationSerializer
    required_perms = {
        "create": perms.CITATION_ADD,
        "update": perms.CITATION_CHANGE,
        "partial_update": perms.CITATION_CHANGE,
        "destroy": perms.CITATION_DELETE,
    }

    def get_queryset(self) -> QuerySet[Citation]:
        return Citation.objects.select_related("study").order_by("claim_id", RELATION_RANK, "pk")

    def get_serializer_class(self):
        if self.action == "create":
            return s.CitationCreateSerializer
        if self.action in ("update", "partial_update"):
            return s.CitationUpdateSerializer
        return s.CitationSerializer

    def _shown(self, citation: Citation, code: int) -> Response:
        fresh = self.get_queryset().get(pk=citation.pk)
        return Response(s.CitationSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.CitationCreateSerializer, request)
        claim, study = data.pop("claim"), data.pop("study")
        citation = evidence_services.citation_create(claim=claim, study=study, values=data, user=request.user)
        return self._shown(citation, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        citation = self.get_object()
        data = _valid(s.CitationUpdateSerializer, request, partial=kwargs.get("partial", False), instance=citation)
        citation = evidence_services.citation_update(citation=citation, values=data, user=request.user)
        return self._shown(citation, status.HTTP_200_OK)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        evidence_services.citation_delete(citation=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Flags -------------------------------------------------------------------------------------------------

_FLAG_CLOSE_DOC = (
    "Needs reviews.view_consensus, reviews.view_others_reviews and reviews.change_flag (the Editors group), "
    "as the editor's page does (reviews.services.flag_close). 400 when the flag is already closed."
)


@extend_schema_view(
    list=extend_schema(summary="List flags", description="Newest first. Two queries per page."),
    retrieve=extend_schema(summary="A flag"),
    create=extend_schema(
        summary="Raise a flag on a claim (editors)",
        description="Needs reviews.view_consensus, reviews.view_others_reviews and reviews.add_flag (the Editors "
        "group), as the editor's page does (reviews.services.flag_raise). 400 when the same flag is open.",
        request=s.FlagRaiseSerializer,
        responses={201: s.FlagSerializer},
    ),
)
class FlagViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = FlagFilter
    serializer_class = s.FlagSerializer
    required_perms = {"create": perms.FLAG_RAISE, "resolve": perms.FLAG_CLOSE, "dismiss": perms.FLAG_CLOSE}

    def get_queryset(self) -> QuerySet[Flag]:
        return Flag.objects.order_by("-raised_at", "-pk")

    def get_serializer_class(self):
        return s.FlagRaiseSerializer if self.action == "create" else s.FlagSerializer

    def filter_queryset(self, queryset: QuerySet[Flag]) -> QuerySet[Flag]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.FlagRaiseSerializer, request)
        flag = review_services.flag_raise(raised_by=request.user, **data)
        return Response(s.FlagSerializer(flag).data, status=status.HTTP_201_CREATED)

    def _close(self, request: Request, flag_status: str) -> Response:
        flag = self.get_object()
        data = _valid(s.FlagCloseSerializer, request)
        flag = review_services.flag_close(flag=flag, status=flag_status, closed_by=request.user, note=data["note"])
        return Response(s.FlagSerializer(flag).data)

    @extend_schema(
        summary="Resolve a flag (editors)",
        description=_FLAG_CLOSE_DOC,
        request=s.FlagCloseSerializer,
        responses={200: s.FlagSerializer},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        return self._close(request, Flag.Status.RESOLVED)

    @extend_schema(
        summary="Dismiss a flag (editors)",
        description=_FLAG_CLOSE_DOC,
        request=s.FlagCloseSerializer,
        responses={200: s.FlagSerializer},
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        return self._close(request, Flag.Status.DISMISSED)


# --- Reviews -----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List the reviews you may read",
        description="Anonymous: the reviews of every review round whose verdict was published (a claim sent back "
        "for re-review is in a new round, blind until its verdict is published; its earlier rounds stay public). "
        "Signed in: also your own and, once you have reviewed a claim in a round (blind review), the other reviews "
        "of that round; editors see all (reviews.access.review_visibility). Two queries per page.",
    ),
    retrieve=extend_schema(summary="A review you may read"),
)
class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = ReviewFilter
    serializer_class = s.ReviewSerializer

    def get_queryset(self) -> QuerySet[Review]:
        return (
            visible_reviews(self.request.user)
            .select_related("reviewer__reviewer_profile")
            .order_by("claim_id", "created_at", "pk")
        )

    def filter_queryset(self, queryset: QuerySet[Review]) -> QuerySet[Review]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset


# --- Tokens --------------------------------------------------------------------------------------------


class ObtainTokenView(APIView):
    """Exchange a username and password for the account's API token (created on first use)."""

    authentication_classes: list = []  # the credentials are in the body
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        summary="Obtain your API token",
        description="Send the token as `Authorization: Token <token>`. Attempts are limited per address "
        '(the "token" rate, 429 beyond it), and failed sign-ins count towards the sign-in lockout.',
        request=s.TokenRequestSerializer,
        responses={200: s.TokenSerializer, 400: OpenApiResponse(ValidationErrorSerializer)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


# --- Helpers ---------------------------------------------------------------------------------------------


def _valid(serializer_class, request: Request, **kwargs: Any) -> dict[str, Any]:
    """The request's validated values; a 400 with the field errors otherwise."""
    instance = kwargs.pop("instance", None)
    serializer = serializer_class(instance, data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _not_found(detail: str) -> Response:
    return Response(error_body(404, detail, "not_found"), status=status.HTTP_404_NOT_FOUND)

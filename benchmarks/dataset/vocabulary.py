"""The words of the synthetic library: substances, conditions, names, journals, and the sentence templates
its articles, claims, studies, notes and rationales are drawn from (benchmarks.dataset.generator).
A template's ``{placeholders}`` are filled by benchmarks.dataset.draw.Words.
"""

from __future__ import annotations

from evidence.models import ClaimType, Relation, StudyDesign
from reviews.models import Certainty, FlagReason

# substance key (Claim.substance) → (how the text names it, weight among claims and studies)
SUBSTANCES: dict[str, tuple[str, float]] = {
    "ketamine": ("ketamine", 18),
    "esketamine": ("esketamine", 7),
    "MDMA": ("MDMA", 16),
    "psilocybin": ("psilocybin", 18),
    "LSD": ("LSD", 7),
    "ayahuasca": ("ayahuasca", 5),
    "DMT": ("DMT", 4),
    "ibogaine": ("ibogaine", 3),
    "cannabis": ("cannabis", 6),
    "CBD": ("cannabidiol", 5),
    "both": ("ketamine and MDMA", 8),
}
MECHANISMS: dict[str, list[str]] = {
    "glutamate": [
        "blocks NMDA receptors, which sets off a burst of glutamate and the growth of new synapses",
        "raises BDNF levels in the prefrontal cortex within hours",
        "restores connections between neurons that chronic stress had pruned",
    ],
    "serotonin": [
        "activates serotonin 2A receptors and loosens rigid patterns of thought",
        "quiets the default mode network, the brain system linked to rumination",
        "makes the brain more plastic for several weeks after a single dose",
    ],
    "mdma": [
        "floods the synapse with serotonin and releases oxytocin, which lowers fear",
        "dampens the amygdala's response to threat while leaving memory intact",
        "reopens a critical period for social reward learning",
    ],
    "other": [
        "acts on kappa opioid receptors and resets reward pathways",
        "works through the endocannabinoid system rather than through serotonin",
        "changes how the brain weighs new information against old beliefs",
    ],
}
MECHANISM_OF = {
    "ketamine": "glutamate",
    "esketamine": "glutamate",
    "MDMA": "mdma",
    "psilocybin": "serotonin",
    "LSD": "serotonin",
    "ayahuasca": "serotonin",
    "DMT": "serotonin",
    "ibogaine": "other",
    "cannabis": "other",
    "CBD": "other",
}
CONDITIONS = [
    "treatment-resistant depression",
    "major depressive disorder",
    "post-traumatic stress disorder",
    "alcohol use disorder",
    "opioid use disorder",
    "generalised anxiety disorder",
    "end-of-life distress",
    "obsessive-compulsive disorder",
    "anorexia nervosa",
    "tobacco dependence",
    "bipolar depression",
    "suicidal ideation",
    "chronic pain",
    "social anxiety",
]
COMPARATORS = ["placebo", "escitalopram", "an active placebo", "midazolam", "niacin", "standard care", "talk therapy"]
ADVERSE = [
    "nausea",
    "headache",
    "dissociation",
    "raised blood pressure",
    "anxiety during the session",
    "fatigue",
    "dizziness",
    "jaw clenching",
    "transient confusion",
]
RISKS = ["bladder damage", "dependence", "psychosis", "heart valve problems", "liver injury", "cardiac arrhythmia"]
INSTITUTIONS = [
    "Yale",
    "Imperial College London",
    "Johns Hopkins",
    "the University of Auckland",
    "Karolinska Institutet",
    "McGill University",
    "the Charité in Berlin",
    "King's College London",
    "the University of Melbourne",
    "Leiden University",
    "Stanford",
    "the University of Toronto",
]
COUNTRIES = ["Australia", "Canada", "the United States", "Switzerland", "the Netherlands", "Germany", "New Zealand"]
OUTLETS = [
    "The Morning Ledger",
    "Health Weekly",
    "The Science Desk",
    "Northern Post",
    "Mindful Magazine",
    "The Evening Review",
    "Public Health Today",
    "City Chronicle",
]
JOURNALS = [
    ("Journal of Clinical Psychopharmacology Research", "jcpr"),
    ("Psychiatric Trials", "pt"),
    ("Neuropsychopharmacology Letters", "npl"),
    ("International Journal of Psychedelic Medicine", "ijpm"),
    ("Archives of Mood Disorders", "amd"),
    ("Addiction Science Reports", "asr"),
    ("Journal of Traumatic Stress Studies", "jtss"),
    ("Clinical Neuroscience Review", "cnr"),
    ("Frontiers in Experimental Psychiatry", "fep"),
    ("European Journal of Psychopharmacology", "ejp"),
    ("The Psychiatry Quarterly", "tpq"),
    ("Journal of Affective Research", "jar"),
    ("Anaesthesia and Analgesia Reports", "aar"),
    ("Drug Safety Monitor", "dsm"),
    ("Behavioural Brain Studies", "bbs"),
    ("Journal of Palliative Psychiatry", "jpp"),
    ("Neuroplasticity", "npx"),
    ("Systematic Reviews in Mental Health", "srmh"),
    ("BMJ Open Psychiatry", "bop"),
    ("Translational Psychiatry Reports", "tpr"),
]
FAMILY_NAMES = (
    "Smith Nguyen García Müller Rossi Kowalski Johansson Okafor Tanaka Kim Patel Silva Dubois Novak Haddad "
    "Cohen Murphy Fischer Moreau Ivanova Chen Wang Li Zhang Singh Kumar Costa Santos Ferreira Jensen Larsen "
    "Nielsen Bauer Wagner Becker Hoffmann Schulz Lambert Fontaine Ricci Romano Greco Bianchi Moretti Lopez "
    "Martinez Hernandez Gonzalez Ramirez Torres Flores Rivera Ahmed Hussain Khan Ali Rahman Mensah Boateng "
    "Adeyemi Eze Mwangi Otieno Kariuki Sato Suzuki Takahashi Watanabe Yamamoto Park Choi Jung Kang Tran Pham "
    "Hoang Vu Anderson Thompson White Harris Martin Clark Lewis Walker Young Allen Wright Scott Green Baker "
    "Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins Edwards Stewart "
    "Morris Rogers Reed Cook Morgan Bell Cooper Richardson Cox Howard Ward Peterson Gray James Watson Brooks "
    "Kelly Sanders Price Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry Powell Long Patterson Hughes "
    "Berg Lindqvist Virtanen Korhonen Horvath Nagy Popescu Dimitrov Papadopoulos Yilmaz Demir Kaya Shapiro "
    "Levi Friedman Abramov Sokolov Petrov Volkov Kuznetsov O'Brien McCarthy Byrne Walsh Doyle Gallagher"
).split()
GIVEN_NAMES = (
    "Anna Ben Carla David Elena Farid Grace Hiro Ines Jonas Kavya Lars Maya Nikos Olga Pedro Qing Rosa Sami "
    "Tomas Uma Victor Wen Ximena Yusuf Zoe Amir Bea Chidi Dana Emil Fatima Gustav Hana Ivan Julia Kofi Lena "
    "Marco Nadia Oscar Priya Rafael Sofia Theo Ulla Vera Will Yara Ada Bruno Clara Dmitri Eva Felix Greta "
    "Hugo Ida Jakob Kim Leo Mira Noah Paula Rhea Sven Tara Ugo Vida Wanda Xavier Yuki Zane"
).split()
PERSON_ROLES = ["psychiatrist", "neuroscientist", "clinical psychologist", "pharmacologist", "trial investigator"]
AGENCIES = ["European Medicines Agency", "US Food and Drug Administration", "Therapeutic Goods Administration"]

CLAIM_TYPE_WEIGHTS = {
    ClaimType.EFFICACY: 30,
    ClaimType.MECHANISM: 15,
    ClaimType.SAFETY: 17,
    ClaimType.ONSET: 9,
    ClaimType.DURABILITY: 9,
    ClaimType.ATTRIBUTION: 7,
    ClaimType.OTHER: 13,
}
CLAIM_TEMPLATES: dict[str, list[str]] = {
    ClaimType.EFFICACY: [
        "{Sub} reduced symptoms of {cond} by {pct}% more than {comp} in a trial of {n} adults.",
        "In people with {cond}, {sub}-assisted therapy doubled the rate of remission compared with therapy alone.",
        "{Sub} works for {cond} even in patients who have tried {k} or more other treatments without success.",
        "About {pct}% of patients with {cond} no longer met the diagnostic criteria after {k} sessions with {sub}.",
        "A single session with {sub} helped {pct} out of every 100 participants with {cond}, a response rate "
        "that rivals the best existing drugs.",
        "Patients given {sub} were {x} times more likely to respond than those given {comp}.",
    ],
    ClaimType.ONSET: [
        "Patients with {cond} often feel better within {h} hours of a single dose of {sub}.",
        "The effect of {sub} on {cond} appears within a day, far sooner than the {k} weeks conventional "
        "antidepressants need.",
        "Relief from {cond} began during the first session with {sub} for {pct}% of the participants.",
    ],
    ClaimType.DURABILITY: [
        "The benefits of {sub} for {cond} lasted at least {m} months after the final session.",
        "Most participants treated with {sub} still reported improvement {m} months later, without further doses.",
        "A year after treatment with {sub}, {pct}% of patients with {cond} remained in remission.",
    ],
    ClaimType.SAFETY: [
        "{Sub} is safe when given in a clinic, with serious adverse events in fewer than {k} in 1,000 patients.",
        "The most common side effects of {sub} were {ae1} and {ae2}, which faded within {h} hours.",
        "Repeated use of {sub} carries a risk of {risk}, especially at doses above {dose} mg.",
        "No participant in the {n}-person study of {sub} developed {risk}.",
    ],
    ClaimType.MECHANISM: [
        "{Sub} {mechanism}.",
        "Researchers believe {sub} {mechanism}, which would explain its effect on {cond}.",
        "Brain scans show that {sub} {mechanism}.",
        "In {animals}, {sub} {mechanism}.",
        "{Sub} {mechanism}, according to a study published in {year}.",
    ],
    ClaimType.ATTRIBUTION: [
        "Researchers at {inst} were the first to show that {sub} could relieve {cond}.",
        "{person}, who led the {sub} trial at {inst}, called the results the strongest in {k} years of research.",
        "A team at {inst} found that {sub} helped {pct}% of their patients with {cond}.",
    ],
    ClaimType.OTHER: [
        "Regulators in {country} approved {sub} for {cond} in {year}.",
        "More than {n} trials of {sub} have been registered since {year}.",
        "Clinics offering {sub} for {cond} charge between {price} and {price2} dollars per session.",
        "Interest in {sub} therapy has grown sharply since {year}, when the first modern trial reported.",
    ],
}
# claims that compare the two (substance "both"), with their claim type
BOTH_TEMPLATES = [
    (
        ClaimType.ONSET,
        "Ketamine acts within hours, while MDMA-assisted therapy takes {k} sessions to show its full effect on {cond}.",
    ),
    (ClaimType.MECHANISM, "Unlike MDMA, ketamine {mechanism_k}."),
    (ClaimType.EFFICACY, "Both ketamine and MDMA reduced symptoms of {cond} by more than {pct}% in early trials."),
    (
        ClaimType.EFFICACY,
        "Patients who did not respond to ketamine were {x} times more likely to respond to MDMA-assisted therapy.",
    ),
    (ClaimType.SAFETY, "Ketamine and MDMA both raise blood pressure, by up to {k}0 mmHg in the {n}-person trial."),
    (ClaimType.OTHER, "Ketamine has been used in medicine since the {decade}s; MDMA was first made in 1912."),
]
ELABORATIONS = [
    "The effect was largest in patients who had not responded to {k} or more earlier treatments.",
    "The finding held after the researchers accounted for age, sex and baseline severity.",
    "Participants in the comparison group improved too, but by about half as much.",
    "The authors caution that most participants knew which treatment they had received.",
    "Follow-up ended after {m} months, so longer-term effects are unknown.",
]
QUOTATIONS = [
    "“We have never seen a treatment work this fast for {cond},” said {person}, a {role} at {inst}.",
    "“{Sub} is not a cure, but for some people it opens a door,” said {person}, a {role} at {inst}.",
    "“The data on {sub} are promising, and they are not yet enough,” said {person}, a {role} at {inst}.",
]
FILLERS = [
    "{person} first tried {sub} in {year}, after {k} years of living with {cond}.",
    "The clinic in {city} now treats about {n} patients a month.",
    "For many patients the experience is hard to put into words, {person} says.",
    "Not every expert is convinced, and several trials are still recruiting in {country}.",
    "Sessions usually last between {h} and {h2} hours and take place in a quiet room.",
    "Insurers in {country} have so far declined to cover the treatment.",
    "{person} describes the first session as frightening at first and then calm.",
    "A therapist stays in the room for the whole session, {person} explains.",
    "The waiting list at {inst} has grown to {n} names.",
    "Much of the early research was paused for decades after the drug laws of the {decade}s.",
    "Some patients travel from {country} for a course of treatment.",
    "Doctors at the clinic screen every patient for heart problems and a family history of psychosis.",
    "The cost of a full course runs to about {price} dollars.",
    "In interviews, {k} of the participants said they would do it again.",
]
CITIES = ["Leeds", "Denver", "Utrecht", "Montreal", "Lyon", "Adelaide", "Zurich", "Bristol", "Portland", "Graz"]
HEADINGS = [
    "What the trials show about {sub}",
    "{Sub} and {cond}",
    "How {sub} works in the brain",
    "Risks and side effects",
    "Who is treated, and how",
    "The road to approval",
    "What patients say",
    "Open questions",
    "How fast does it work",
    "Does the effect last",
    "The cost of treatment",
    "Where the evidence is thin",
    "The science behind the hype",
    "A history of {sub} in medicine",
    "What comes next",
    "Comparing {sub} with existing drugs",
]
TITLES = [
    "{Sub} for {cond}: what the evidence says",
    "Can {sub} treat {cond}?",
    "The rise of {sub} therapy",
    "Inside the clinics offering {sub} for {cond}",
    "Why doctors are turning to {sub}",
    "{Sub}, {cond} and the limits of a new treatment",
    "A new hope for {cond}",
    "The promise and the risks of {sub}",
]
EVIDENCE_NOTES = [
    "Supported by several trials; effect sizes vary.",
    "Mostly small open-label studies.",
    "One large RCT, not replicated yet.",
    "Evidence is indirect: animal work and healthy volunteers.",
    "Meta-analyses agree on direction, not on size.",
    "Safety data come mainly from clinic settings.",
]
CITATION_NOTES = {
    Relation.SUPPORTS: [
        "Randomised trial (n={n}): {sub} improved {cond} scores more than {comp} at {w} weeks.",
        "Found a response rate of {pct}% with {sub} in {cond}.",
        "Pooled {k} trials: effect favours {sub} with moderate heterogeneity.",
        "Shows the mechanism in {animals}; consistent with the claim.",
    ],
    Relation.MIXED: [
        "Benefit at {w} weeks but not at {m} months.",
        "Positive primary outcome; secondary outcomes did not differ from {comp}.",
        "Effect only in the subgroup with severe {cond}.",
    ],
    Relation.CONTRADICTS: [
        "No significant difference from {comp} on the primary outcome (n={n}).",
        "Adverse events in {pct}% of participants, more than the claim suggests.",
        "Failed to replicate the earlier finding in a larger sample.",
    ],
    Relation.CONTEXT: [
        "Background on the history and pharmacology of {sub}.",
        "Describes how {cond} is diagnosed and measured.",
        "Regulatory background for {sub}.",
    ],
}
DIRECTNESS_NOTES = [
    "Studied {animals}, not patients.",
    "Participants had {cond2}, not {cond}.",
    "Used a single dose; the claim is about a course of treatment.",
    "Healthy volunteers rather than patients.",
]
RATIONALES = [
    "The supporting trials are small and at risk of bias from functional unblinding.",
    "Two consistent randomised trials support the claim for the population the article describes.",
    "The evidence is indirect: most of it comes from {animals} or healthy volunteers.",
    "The article overstates the size of the effect; the pooled estimate is smaller.",
    "Results are inconsistent across studies, with wide confidence intervals.",
    "The claim goes beyond the studies, which followed patients for weeks, not months.",
    "A large, well-conducted trial contradicts the claim.",
    "The claim matches what the meta-analysis found.",
    "Follow-up was short and losses to follow-up were high.",
    "Only one study addresses the claim directly, and it has not been replicated.",
]
ADJUDICATIONS = [
    "Reviewers disagreed on how much to downgrade for indirectness; the editor sides with the lower rating.",
    "The contradicting trial is larger and better blinded; it outweighs the supporting pilot studies.",
    "One reviewer missed the retraction notice; with it, the evidence supports the claim only in part.",
    "A single review was enough here: the only relevant study is a well-conducted meta-analysis.",
]
PUBLISHED_RATIONALES = [
    "Reviewed against the cited trials; the verdict reflects their consistency and size.",
    "The evidence supports the claim for the population studied, with the caveats noted.",
    "The article's wording goes further than the studies do.",
    "The best available studies point the other way.",
]
FLAG_NOTES = {
    FlagReason.UNSUPPORTED: "None of the cited studies tests this.",
    FlagReason.OVERSTATED: "The studies show a smaller effect than the article states.",
    FlagReason.MISATTRIBUTED: "The finding comes from a different research group.",
    FlagReason.SOURCE_MISMATCH: "The cited study does not report this outcome.",
    FlagReason.OUTDATED: "A newer trial changes the picture.",
}
RESOLUTION_NOTES = ["Citation corrected.", "Claim wording checked against the study.", "Not a problem on review."]
ANIMALS = ["rats", "mice", "zebrafish", "healthy volunteers", "cell cultures"]

# Study designs: weight, sample-size range (None: no sample size), title templates.
DESIGNS: dict[str, tuple[float, tuple[int, int] | None, list[str]]] = {
    StudyDesign.RCT: (
        20,
        (8, 600),
        [
            "{Sub} versus {comp} for {cond}: a randomised, double-blind trial",
            "Efficacy and safety of {sub} in {cond}: a phase {phase} randomised controlled trial",
            "A randomised trial of {sub}-assisted therapy for {cond}",
            "Single-dose {sub} for {cond}: a randomised placebo-controlled study",
            "Effects of {sub} on {outcome} in {cond}: a randomised trial",
        ],
    ),
    StudyDesign.COHORT: (
        13,
        (100, 40_000),
        [
            "Long-term outcomes after {sub} treatment for {cond}: a {k}-year cohort study",
            "{Sub} use and later {cond} in a national cohort",
        ],
    ),
    StudyDesign.META_ANALYSIS: (
        6,
        (200, 20_000),
        [
            "Efficacy of {sub} for {cond}: a systematic review and meta-analysis of {k} randomised trials",
            "Adverse events with {sub}: a meta-analysis",
        ],
    ),
    StudyDesign.SYSTEMATIC_REVIEW: (
        7,
        None,
        ["{Sub} for {cond}: a systematic review", "The evidence for {sub} in {cond}: a systematic review"],
    ),
    StudyDesign.CASE_CONTROL: (
        5,
        (80, 6_000),
        ["{Sub} use and the risk of {risk}: a case-control study"],
    ),
    StudyDesign.CASE_SERIES: (
        8,
        (3, 40),
        ["{Sub}-assisted therapy in {n} patients with {cond}: a case series", "Experience with {sub} in {cond}"],
    ),
    StudyDesign.CROSS_SECTIONAL: (
        10,
        (150, 90_000),
        ["Patterns of {sub} use among adults with {cond}: a cross-sectional survey"],
    ),
    StudyDesign.PRECLINICAL: (
        13,
        (8, 96),
        [
            "{Sub} reverses stress-induced synapse loss in {animals}",
            "Mechanisms of {sub} action in a {animals} model of {cond}",
        ],
    ),
    StudyDesign.REVIEW: (
        10,
        None,
        ["{Sub} in psychiatry: mechanisms, evidence and open questions", "The pharmacology of {sub}: a review"],
    ),
    StudyDesign.REGULATORY: (1, None, ["{agency} assessment report: {sub} for {cond}"]),
    StudyDesign.OTHER: (7, None, ["Commentary: what the {sub} trials do and do not show", "{Sub} and {cond}"]),
}
TITLE_OPENINGS = ["", "", "", "Rapid and sustained effects of ", "A pilot study of ", "Secondary analysis: "]
# Appended to some titles, so that a library of 100,000 studies has few identical titles, as real ones do.
TITLE_QUALIFIERS = [
    " in veterans",
    " in older adults",
    " in adolescents",
    " in primary care",
    " in a community sample",
    " in women",
    " after a first episode",
    " with comorbid anxiety",
    " in an inpatient setting",
    " across {k} sites",
    " in {country}",
    ", with {m}-month follow-up",
    ": effects on {outcome}",
]
OUTCOMES = [
    "suicidal ideation",
    "sleep quality",
    "cognitive function",
    "quality of life",
    "relapse",
    "craving",
    "anhedonia",
    "emotional processing",
    "blood pressure",
    "functional connectivity",
]
ABSTRACT_PARTS = {
    "Background": [
        "{Cond} is common, and many patients do not respond to existing treatments.",
        "{Sub} has shown promise in small studies of {cond}.",
        "Little is known about the long-term safety of {sub}.",
    ],
    "Methods": [
        "We randomly assigned {n} participants to {sub} or {comp} and followed them for {w} weeks.",
        "We searched five databases for studies of {sub} in {cond} published before {year}.",
        "We followed {n} adults who received {sub} at {k} clinics.",
        "The primary outcome was the change in symptom score from baseline to week {w}.",
    ],
    "Results": [
        "Symptom scores fell by {pct}% with {sub} and by {pct2}% with {comp}.",
        "Adverse events were mostly mild; {ae1} was the most frequent.",
        "The pooled effect size was {es} (95% CI {es_low} to {es_high}), with substantial heterogeneity.",
        "Response rates did not differ significantly between groups.",
    ],
    "Conclusions": [
        "{Sub} may benefit some patients with {cond}, but larger trials are needed.",
        "These findings support further study of {sub} under medical supervision.",
        "The evidence is of low certainty and should be interpreted with caution.",
    ],
}
RELATION_WEIGHTS = {Relation.SUPPORTS: 48, Relation.MIXED: 16, Relation.CONTRADICTS: 14, Relation.CONTEXT: 22}
CITATIONS_PER_CLAIM = [12, 20, 20, 16, 12, 9, 6, 5]  # weights of 1 … 8 citations
STRONG_DESIGNS = {StudyDesign.META_ANALYSIS, StudyDesign.SYSTEMATIC_REVIEW, StudyDesign.RCT}
CERTAINTIES = [Certainty.VERY_LOW, Certainty.LOW, Certainty.MODERATE, Certainty.HIGH]  # rank 1 … 4
EDITOR_FLAG_REASONS = [
    FlagReason.UNSUPPORTED,
    FlagReason.OVERSTATED,
    FlagReason.MISATTRIBUTED,
    FlagReason.SOURCE_MISMATCH,
    FlagReason.OUTDATED,
]

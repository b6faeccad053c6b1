"""One customer's answers to each step of the Clickar wizard, as a browser posts them: the
journey that the fault suite's customers and the journey benchmarks walk over HTTP."""

STEPS = [
    ("consent", {"agree": "on"}),
    ("notes", {}),
    ("disclosure", {"confirmed": "on"}),
    ("current", {}),
    (
        "conditions",
        {
            "age_condition": "35",
            "driver_scope": "self_spouse",
            "use": "commute",
            "gold_license": "yes",
            "same_vehicle": "yes",
        },
    ),
    ("plan", {"plan": "recommended"}),
    ("premium", {}),
    (
        "declarations",
        {
            "other_insurance": "no",
            "use_change": "no",
            "modified": "no",
            "license_suspended": "no",
            "unreported_accident": "no",
        },
    ),
    ("payment", {"confirmed": "on"}),
    ("delivery", {"delivery": "web"}),
]

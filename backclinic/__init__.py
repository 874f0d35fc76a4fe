"""BackClinic: integrative acupuncture and physical therapy for back pain."""

__version__ = "0.1.0"

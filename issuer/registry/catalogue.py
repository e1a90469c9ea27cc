"""Synthetic catalogue for ``issuer.registry.seed``: names, programmes, institutions, subjects.

Fictional data shaped like DUO's register (shared/DOMAIN.md): CROHO and crebo codes have five
digits, BRIN codes two digits and two capitals or digits, as the claims schemas require; codes,
schools and titles are made up and are not meant to match the real registers. Names come from
many countries and scripts so that every layer is exercised with non-ASCII text: Dutch with
prefixes (tussenvoegsels), Turkish, Moroccan (Latin and Arabic script), Chinese, Cyrillic,
Devanagari, Spanish, Polish, Greek, Vietnamese, Surinamese, Korean, Ge'ez, Portuguese and
Papiamento-speaking Curaçao.
"""

from __future__ import annotations

# fmt: off

# (culture, given names, (prefix, surname) pairs). Dutch appears twice: it is the most common.
NAMES: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("nl", ("Sanne", "Daan", "Johanna", "Pieter", "Femke", "Thijs", "Anouk", "Maarten"),
     (("van der", "Berg"), ("de", "Vries"), ("van", "Dijk"), ("van den", "Heuvel"),
      ("ter", "Horst"), ("in 't", "Veld"), ("", "Jansen"), ("van", "Rooij-de Wit"))),
    ("tr", ("Ayşe", "Mehmet", "Zeynep Nur", "Çağrı", "Gülşen", "Emre"),  # noqa: RUF001
     (("", "Yılmaz"), ("", "Öztürk"), ("", "Şahin"), ("", "Çelik"), ("", "Doğan"))),  # noqa: RUF001
    ("ma", ("Mohamed", "Fatima Zahra", "Youssef", "Khadija", "Soufiane"),
     (("", "El Amrani"), ("", "Benali"), ("", "Bouzid"), ("", "Aït Ouali"))),
    ("ar", ("محمد", "فاطمة الزهراء", "يوسف", "خديجة"),
     (("", "العمراني"), ("", "بن علي"), ("", "الإدريسي"))),
    ("zh", ("伟", "秀英", "静怡", "浩然"), (("", "王"), ("", "李"), ("", "张"), ("", "陈"))),
    ("ru", ("Ольга", "Дмитрий", "Анастасия", "Игорь"),
     (("", "Иванова"), ("", "Петренко"), ("", "Смирнов"))),
    ("hi", ("प्रिया", "राहुल", "अनन्या", "विक्रम"), (("", "शर्मा"), ("", "पटेल"), ("", "वर्मा"))),
    ("nl", ("Willem", "Lotte", "Bram", "Eva Maria", "Joost"),
     (("van", "Leeuwen"), ("de", "Boer"), ("van 't", "Hof"), ("", "Smit"), ("op de", "Beek"))),
    ("es", ("José María", "Lucía", "Íñigo", "María José", "Begoña"),
     (("", "Núñez García"), ("", "Fernández Ortega"), ("", "Peña"), ("", "Muñoz Sáez"))),
    ("pl", ("Łukasz", "Małgorzata", "Zofia", "Paweł"),
     (("", "Wiśniewski"), ("", "Kowalczyk"), ("", "Wójcik"), ("", "Zieliński"))),
    ("el", ("Γιώργος", "Ελένη", "Δημήτρης"), (("", "Παπαδοπούλου"), ("", "Νικολάου"))),
    ("vi", ("Thị Hương", "Văn Minh", "Ngọc Ánh"), (("", "Nguyễn"), ("", "Trần"), ("", "Lê"))),
    ("sr", ("Priya", "Rakesh", "Shanti", "Kishan"),
     (("", "Ramdin"), ("", "Jagesar"), ("", "Sewnath"))),
    ("ko", ("민준", "서연", "지우"), (("", "김"), ("", "이"), ("", "박"))),
    ("ti", ("ሰላም", "ዮናስ", "ሄለን"), (("", "ተስፋይ"), ("", "ገብረሚካኤል"))),
    ("pt", ("João", "Conceição", "Gonçalo"), (("", "Gonçalves"), ("", "Magalhães"))),
    ("cw", ("Shurandy", "Jurgen", "Giselle"), (("", "Martina"), ("", "Rosaria"), ("", "Isenia"))),
)

# Cultures whose people commonly carry more than one given name.
SEVERAL_GIVEN_NAMES = frozenset({"nl", "es", "pt", "pl"})

Institution = tuple[str, str, str]  # (BRIN, name, city)

VO_SCHOOLS: tuple[Institution, ...] = (
    ("19KX", "Scholengemeenschap De Duinrand", "Katwijk"),
    ("02TE", "Stedelijk Gymnasium Zuid", "Rotterdam"),
    ("14AB", "Het Baken College", "Almere"),
    ("20LM", "Montessori Lyceum Oost", "Amsterdam"),
    ("04FR", "Christelijk College Nassau", "Groningen"),
    ("17QK", "Maasland College", "Maastricht"),
)
MBO_SCHOOLS: tuple[Institution, ...] = (
    ("25LX", "ROC Amstelland", "Amsterdam"),
    ("27JR", "Maascollege", "Rotterdam"),
    ("25PZ", "ROC Domstad", "Utrecht"),
    ("30RR", "Kempen College", "Eindhoven"),
    ("01OE", "Noorderpoort College", "Groningen"),
)
WO_INSTITUTIONS: tuple[Institution, ...] = (
    ("21PB", "Universiteit Leiden", "Leiden"),
    ("21PK", "Universiteit van Amsterdam", "Amsterdam"),
    ("21PF", "Technische Universiteit Delft", "Delft"),
    ("21PD", "Universiteit Utrecht", "Utrecht"),
    ("21PC", "Rijksuniversiteit Groningen", "Groningen"),
)
HBO_INSTITUTIONS: tuple[Institution, ...] = (
    ("28DN", "Hogeschool van Amsterdam", "Amsterdam"),
    ("25DW", "Hogeschool Utrecht", "Utrecht"),
    ("30GB", "Fontys Hogescholen", "Eindhoven"),
    ("25BE", "Hanzehogeschool Groningen", "Groningen"),
    ("22OJ", "Hogeschool Rotterdam", "Rotterdam"),
)
STATE_EXAM_BOARD: Institution = ("31SE", "College voor Toetsen en Examens", "Utrecht")

# diploma_type -> (vo_school_type, programme code, name nl, name en, profiles)
VO_PROGRAMMES: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "vmbo_bb": ("VMBO_BB", "0141", "Vmbo basisberoepsgerichte leerweg",
                "Pre-vocational secondary education, basic vocational track",
                ("Zorg en welzijn", "Bouwen, wonen en interieur")),
    "vmbo_kb": ("VMBO_KB", "0142", "Vmbo kaderberoepsgerichte leerweg",
                "Pre-vocational secondary education, advanced vocational track",
                ("Economie en ondernemen", "Produceren, installeren en energie")),
    "vmbo_gl": ("VMBO_GL", "0143", "Vmbo gemengde leerweg",
                "Pre-vocational secondary education, combined track",
                ("Dienstverlening en producten", "Zorg en welzijn")),
    "vmbo_tl": ("VMBO_TL", "0144", "Vmbo theoretische leerweg",
                "Pre-vocational secondary education, theoretical track",
                ("Economie", "Techniek", "Zorg en welzijn")),
    "havo": ("HAVO", "0352", "Hoger algemeen voortgezet onderwijs (havo)",
             "Senior general secondary education (HAVO)",
             ("Natuur en Techniek", "Natuur en Gezondheid", "Economie en Maatschappij",
              "Cultuur en Maatschappij")),
    "vwo": ("VWO", "0353", "Voorbereidend wetenschappelijk onderwijs (vwo)",
            "Pre-university secondary education (VWO)",
            ("Natuur en Techniek", "Natuur en Gezondheid", "Economie en Maatschappij",
             "Cultuur en Maatschappij")),
}

# (code, name nl, name en, exam kind): "ce" school + central exam, "se" school exam only,
# "vg" voldoende/goed.
Subject = tuple[str, str, str, str]
VMBO_SUBJECTS: tuple[Subject, ...] = (
    ("ne", "Nederlandse taal", "Dutch language", "ce"),
    ("en", "Engelse taal", "English language", "ce"),
    ("wi", "Wiskunde", "Mathematics", "ce"),
    ("bi", "Biologie", "Biology", "ce"),
    ("ec", "Economie", "Economics", "ce"),
    ("ma1", "Maatschappijleer", "Social studies", "se"),
    ("lo", "Lichamelijke opvoeding", "Physical education", "vg"),
    ("kv1", "Kunstvakken 1", "Arts 1", "vg"),
)
HAVO_VWO_CORE: tuple[Subject, ...] = (
    ("netl", "Nederlandse taal en literatuur", "Dutch language and literature", "ce"),
    ("entl", "Engelse taal en literatuur", "English language and literature", "ce"),
    ("maat", "Maatschappijleer", "Social studies", "se"),
    ("ckv", "Culturele en kunstzinnige vorming", "Cultural and artistic education", "vg"),
    ("lo", "Lichamelijke opvoeding", "Physical education", "vg"),
)
HAVO_VWO_ELECTIVES: tuple[Subject, ...] = (
    ("wisa", "Wiskunde A", "Mathematics A", "ce"),
    ("wisb", "Wiskunde B", "Mathematics B", "ce"),
    ("natk", "Natuurkunde", "Physics", "ce"),
    ("schk", "Scheikunde", "Chemistry", "ce"),
    ("biol", "Biologie", "Biology", "ce"),
    ("econ", "Economie", "Economics", "ce"),
    ("gs", "Geschiedenis", "History", "ce"),
    ("ak", "Aardrijkskunde", "Geography", "ce"),
    ("fatl", "Franse taal en literatuur", "French language and literature", "ce"),
    ("dutl", "Duitse taal en literatuur", "German language and literature", "ce"),
)
MBO_SUBJECTS: tuple[Subject, ...] = (
    ("ne", "Nederlands", "Dutch", "ce"),
    ("rek", "Rekenen", "Numeracy", "se"),
    ("en", "Engels", "English", "se"),
    ("lb", "Loopbaan en burgerschap", "Career and citizenship", "vg"),
    ("bpv", "Beroepspraktijkvorming", "Work placement", "vg"),
)
PROJECT_TITLES: tuple[str, ...] = (
    "Microplastics in de Oude Rijn",
    "De invloed van sociale media op stemgedrag",
    "Zonnepanelen op schooldaken: loont het?",
    "Dijkversterking langs de Lek",
    "Meertaligheid in de klas",
)

# MBO level -> (crebo, name nl, name en); the specialist programme is MBO 4 at ISCED 4.
MBO_PROGRAMMES: dict[int, tuple[tuple[str, str, str], ...]] = {
    1: (("25998", "Entree, assistent dienstverlening", "Entry level, services assistant"),
        ("25997", "Entree, assistent bouwen", "Entry level, construction assistant")),
    2: (("25257", "Verkoper", "Sales assistant"),
        ("25180", "Zelfstandig werkend kok", "Cook"),
        ("25432", "Helpende zorg en welzijn", "Care and welfare assistant")),
    3: (("25491", "Verzorgende-IG", "Care worker (individual health care)"),
        ("25605", "Allround medewerker IT systems and devices", "IT systems technician"),
        ("25398", "Eerste monteur elektrotechniek", "Electrical installations technician")),
    4: (("25604", "Software developer", "Software developer"),
        ("25655", "Mbo-verpleegkundige", "Nurse (vocational)"),
        ("25168", "Junior accountmanager", "Junior account manager"),
        ("25698", "Pedagogisch medewerker", "Pedagogical assistant")),
}
MBO_SPECIALIST: tuple[str, str, str] = (
    "25255", "Specialist mode en maatkleding", "Fashion and tailoring specialist",
)

# (he_type, he_degree) -> (CROHO, name nl, name en, ISCED-F, ECTS, degree title)
HoProgramme = tuple[str, str, str, str, int, str]
HO_PROGRAMMES: dict[tuple[str, str], tuple[HoProgramme, ...]] = {
    ("WO", "BACHELOR"): (
        ("56981", "Informatica", "Computer Science", "0613", 180, "Bachelor of Science"),
        ("50033", "Rechtsgeleerdheid", "Law", "0421", 180, "Bachelor of Laws"),
        ("56604", "Psychologie", "Psychology", "0313", 180, "Bachelor of Science"),
        ("56826", "Geschiedenis", "History", "0222", 180, "Bachelor of Arts"),
    ),
    ("WO", "MASTER"): (
        ("60300", "Computer Science", "Computer Science", "0613", 120, "Master of Science"),
        ("60311", "Rechtsgeleerdheid", "Law", "0421", 60, "Master of Laws"),
        ("66604", "Psychologie", "Psychology", "0313", 60, "Master of Science"),
        ("60439", "Mechanical Engineering", "Mechanical Engineering", "0715", 120,
         "Master of Science"),
    ),
    ("HBO", "BACHELOR"): (
        ("34479", "HBO-ICT", "Information and Communication Technology", "0612", 240,
         "Bachelor of Science"),
        ("34560", "Verpleegkunde", "Nursing", "0913", 240, "Bachelor of Nursing"),
        ("34035", "Bedrijfskunde", "Business Administration", "0413", 240,
         "Bachelor of Business Administration"),
        ("34808", "Leraar basisonderwijs", "Primary School Teacher Education", "0113", 240,
         "Bachelor of Education"),
    ),
    ("HBO", "MASTER"): (
        ("49231", "Master Social Work", "Master Social Work", "0923", 60,
         "Master of Social Work"),
        ("49124", "Master Leren en Innoveren", "Master Learning and Innovation", "0111", 60,
         "Master of Education"),
    ),
    ("HBO", "AD"): (
        ("80068", "Associate degree ICT", "Associate degree ICT", "0612", 120,
         "Associate degree"),
        ("80047", "Associate degree Pedagogisch Educatief Professional",
         "Associate degree Educational Professional", "0112", 120, "Associate degree"),
    ),
}
# fmt: on
